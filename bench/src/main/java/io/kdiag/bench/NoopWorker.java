package io.kdiag.bench;

import java.util.Map;
import java.util.Set;

import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;

/**
 * Stage workers that do nothing but succeed with one small context entry, so a benchmark measures the pipeline and
 * not the work. Registered through this module's {@code META-INF/services}; they exist only on the bench class path.
 */
public abstract class NoopWorker implements StageWorker {
    /** Name of the no-op collector. */
    public static final String COLLECTOR = "bench-noop-collector";
    /** Name of the no-op diagnoser. */
    public static final String DIAGNOSER = "bench-noop-diagnoser";
    /** Name of the no-op recoverer. */
    public static final String RECOVERER = "bench-noop-recoverer";

    private final String name;
    private final Stage stage;

    NoopWorker(String name, Stage stage) {
        this.name = name;
        this.stage = stage;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Stage stage() {
        return stage;
    }

    @Override
    public WorkResult run(WorkContext ctx) {
        return WorkResult.succeeded(Map.of(name, Map.of("uid", ctx.uid(), "ok", true)), Set.of());
    }

    /** The no-op information collector. */
    public static final class Collector extends NoopWorker {
        /** For ServiceLoader. */
        public Collector() {
            super(COLLECTOR, Stage.InformationCollection);
        }
    }

    /** The no-op diagnoser. */
    public static final class Diagnoser extends NoopWorker {
        /** For ServiceLoader. */
        public Diagnoser() {
            super(DIAGNOSER, Stage.Diagnosis);
        }
    }

    /** The no-op recoverer. */
    public static final class Recoverer extends NoopWorker {
        /** For ServiceLoader. */
        public Recoverer() {
            super(RECOVERER, Stage.Recovery);
        }
    }
}
