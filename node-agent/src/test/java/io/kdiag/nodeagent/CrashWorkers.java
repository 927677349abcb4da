package io.kdiag.nodeagent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Set;

import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;

/**
 * Slow workers for {@link CrashIT}, registered through the test class path's META-INF/services. Each run appends
 * {@code <uid> <worker>} to the file named by {@code KDIAG_TEST_SIDE_EFFECTS} before it works, so a second run of the
 * same worker for the same abnormal shows up there; elsewhere they refuse to run.
 */
final class CrashWorkers {
    static final String SIDE_EFFECTS_ENV = "KDIAG_TEST_SIDE_EFFECTS";

    private CrashWorkers() {
    }

    private static WorkResult record(WorkContext ctx, String name, long workMillis) throws IOException, InterruptedException {
        String file = System.getenv(SIDE_EFFECTS_ENV);
        if (file == null) {
            return WorkResult.failed("NotConfigured", SIDE_EFFECTS_ENV + " is not set");
        }
        Files.writeString(Path.of(file), ctx.uid() + " " + name + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        // the work itself: long enough for the test to kill the agent in the middle of it
        Thread.sleep(workMillis);
        return WorkResult.succeeded(Map.of(name, true), Set.of());
    }

    /** A collector that takes a moment. */
    public static final class Collector implements StageWorker {
        @Override
        public String name() {
            return "crash-test-collector";
        }

        @Override
        public Stage stage() {
            return Stage.InformationCollection;
        }

        @Override
        public WorkResult run(WorkContext ctx) throws Exception {
            return record(ctx, name(), 100);
        }
    }

    /** A recoverer that takes longer, so kills land in recoveries. */
    public static final class Recoverer implements StageWorker {
        @Override
        public String name() {
            return "crash-test-recoverer";
        }

        @Override
        public Stage stage() {
            return Stage.Recovery;
        }

        @Override
        public WorkResult run(WorkContext ctx) throws Exception {
            return record(ctx, name(), 400);
        }
    }
}
