package io.kdiag.reliability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

import io.kdiag.api.v1.NamespacedName;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;

/**
 * Test workers with a side effect that outlives the agent: each run appends {@code <uid> <worker>} to the file named by
 * the system property or environment variable {@value #ENV} before it works, so a second run of a worker for the same
 * abnormal shows up there even across {@code kill -9}. Registered through the test class path's META-INF/services.
 */
final class SideEffects {
    static final String ENV = "KDIAG_TEST_SIDE_EFFECTS";
    static final String COLLECTOR = "reliability-collector";
    static final String RECOVERER = "reliability-recoverer";
    static final NamespacedName COLLECTOR_REF = new NamespacedName("kube-diagnoser", COLLECTOR);
    static final NamespacedName RECOVERER_REF = new NamespacedName("kube-diagnoser", RECOVERER);

    private SideEffects() {
    }

    /** Every run recorded in {@code file}, one {@code <uid> <worker>} per line. */
    static List<String> runs(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file) : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs per {@code <uid> <worker>}. */
    static Map<String, Long> counts(Path file) {
        return runs(file).stream().collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    }

    private static WorkResult record(WorkContext ctx, String name, long workMillis) throws IOException, InterruptedException {
        String file = System.getProperty(ENV, System.getenv(ENV));
        if (file == null) {
            return WorkResult.failed("NotConfigured", ENV + " is not set");
        }
        Files.writeString(Path.of(file), ctx.uid() + " " + name + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.SYNC);
        // the work itself: long enough for a fault to land in the middle of it
        Thread.sleep(workMillis);
        return WorkResult.succeeded(Map.of(name.replace("-", ""), true), Set.of());
    }

    /** A collector that takes a moment. */
    public static final class Collector implements StageWorker {
        @Override
        public String name() {
            return COLLECTOR;
        }

        @Override
        public Stage stage() {
            return Stage.InformationCollection;
        }

        @Override
        public WorkResult run(WorkContext ctx) throws Exception {
            return record(ctx, name(), 30);
        }
    }

    /** A recoverer that takes longer, so faults land in recoveries. */
    public static final class Recoverer implements StageWorker {
        @Override
        public String name() {
            return RECOVERER;
        }

        @Override
        public Stage stage() {
            return Stage.Recovery;
        }

        @Override
        public WorkResult run(WorkContext ctx) throws Exception {
            return record(ctx, name(), 250);
        }
    }
}
