package io.kdiag.stageworkers;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.RecoveryPlan;
import io.kdiag.stageworkers.spi.TestNodes;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WorkerRunnerTest {
    private static final WorkContext CONTEXT = new WorkContext("u", "ns", "n", "node", new AbnormalSpec(), Map.of(),
            TestNodes.at(HostPaths.of(Path.of("/")), 1));
    private final WorkerRunner runner = new WorkerRunner(100);
    private static final Duration TIMEOUT = Duration.ofMillis(300);

    @AfterEach
    void close() {
        runner.close();
    }

    interface Body {
        WorkResult run() throws Exception;
    }

    static StageWorker worker(Body body) {
        return new StageWorker() {
            @Override
            public String name() {
                return "w";
            }

            @Override
            public Stage stage() {
                return Stage.Diagnosis;
            }

            @Override
            public WorkResult run(WorkContext ctx) throws Exception {
                return body.run();
            }
        };
    }

    @Test
    void shouldPassASuccessThrough() throws Exception {
        WorkResult result = runner.run(worker(() -> WorkResult.succeeded(Map.of("k", "v"), Set.of("old"))), CONTEXT, TIMEOUT);

        assertThat(result.succeeded()).isTrue();
        assertThat(result.contextUpdates()).containsEntry("k", "v");
        assertThat(result.removedKeys()).containsExactly("old");
    }

    @Test
    void shouldFailACallThatTakesTooLong() throws Exception {
        WorkResult result = runner.run(worker(() -> {
            new CountDownLatch(1).await();
            return WorkResult.succeeded(Map.of(), Set.of());
        }), CONTEXT, TIMEOUT);

        assertThat(result.reason()).isEqualTo("Timeout");
        assertThat(result.message()).contains("300 ms");
    }

    @Test
    void shouldTurnAnExceptionIntoAFailure() throws Exception {
        WorkResult result = runner.run(worker(() -> {
            throw new IllegalStateException("boom");
        }), CONTEXT, TIMEOUT);

        assertThat(result.reason()).isEqualTo("Error");
        assertThat(result.message()).contains("boom");
    }

    @Test
    void shouldRefuseOutputOverTheCap() throws Exception {
        WorkResult result = runner.run(worker(() -> WorkResult.succeeded(Map.of("k", "x".repeat(200)), Set.of())), CONTEXT, TIMEOUT);

        assertThat(result.reason()).isEqualTo("OutputTooLarge");
    }

    @Test
    void shouldCapTheOutputsJsonInUtf8BytesUpToTheCapItself() throws Exception {
        // {"k":"é…"}: 6 + 2 (é) + 90 + 2 = 100 bytes in 99 characters
        String atCap = "é" + "x".repeat(90);
        WorkResult fits = runner.run(worker(() -> WorkResult.succeeded(Map.of("k", atCap), Set.of())), CONTEXT, TIMEOUT);
        WorkResult over = runner.run(worker(() -> WorkResult.succeeded(Map.of("k", atCap + "x"), Set.of())), CONTEXT, TIMEOUT);

        assertThat(fits.succeeded()).isTrue();
        assertThat(fits.contextJson().text()).isEqualTo("{\"k\":\"" + atCap + "\"}");
        assertThat(fits.contextJson().utf8Bytes()).isEqualTo(100);
        assertThat(over.reason()).isEqualTo("OutputTooLarge");
        assertThat(over.message()).isEqualTo("worker w produced 101 bytes of context, more than the limit of 100");
    }

    /** A recoverer whose plan is {@code plan}. */
    static StageWorker planning(Body plan) {
        return new StageWorker() {
            @Override
            public String name() {
                return "r";
            }

            @Override
            public Stage stage() {
                return Stage.Recovery;
            }

            @Override
            public WorkResult run(WorkContext ctx) {
                throw new AssertionError("a plan never runs the recoverer");
            }

            @Override
            public RecoveryPlan plan(WorkContext ctx) throws Exception {
                body(plan);
                return RecoveryPlan.acting(Map.of("k", "v"), null);
            }
        };
    }

    private static void body(Body body) throws Exception {
        body.run();
    }

    @Test
    void shouldContainAPlanThatFailsOrTakesTooLong() throws Exception {
        RecoveryPlan ok = runner.plan(planning(() -> null), CONTEXT, TIMEOUT);
        RecoveryPlan failing = runner.plan(planning(() -> {
            throw new IllegalStateException("boom");
        }), CONTEXT, TIMEOUT);
        RecoveryPlan slow = runner.plan(planning(() -> {
            new CountDownLatch(1).await();
            return null;
        }), CONTEXT, TIMEOUT);

        assertThat(ok.wouldAct()).isTrue();
        assertThat(ok.plan()).containsEntry("k", "v");
        assertThat(failing.wouldAct()).isFalse();
        assertThat(failing.reason()).isEqualTo("Error");
        assertThat(failing.message()).contains("boom");
        assertThat(slow.reason()).isEqualTo("Timeout");
    }

    @Test
    void shouldSayARecovererWithoutAPlanCannotTell() throws Exception {
        RecoveryPlan plan = runner.plan(worker(() -> WorkResult.succeeded(Map.of(), Set.of())), CONTEXT, TIMEOUT);

        assertThat(plan.wouldAct()).isFalse();
        assertThat(plan.reason()).isEqualTo("NoDryRun");
    }
}
