package io.kdiag.stageworkers.builtin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.RecoveryPlan;
import io.kdiag.stageworkers.spi.TestNodes;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;
import org.junit.jupiter.api.Test;

class SignalRecovererTest {
    private final SignalRecoverer recoverer = new SignalRecoverer();

    private static WorkContext context(Object signalRecovery) {
        return new WorkContext("u", "ns", "n", "node", new AbnormalSpec(), Map.of("signalRecovery", signalRecovery),
                TestNodes.at(HostPaths.of(Path.of("/")), ProcessHandle.current().pid()));
    }

    @Test
    void shouldSendTheSignal() throws Exception {
        Process sleep = new ProcessBuilder("sleep", "300").start();
        try {
            WorkResult result = recoverer.run(context(List.of(Map.of("pid", sleep.pid(), "signal", 9))));

            assertThat(result.succeeded()).isTrue();
            assertThat(result.contextUpdates().get("signalRecoveryResult"))
                    .isEqualTo(List.of(Map.of("pid", sleep.pid(), "signal", 9L, "sent", true)));
            await().atMost(Duration.ofSeconds(10)).until(() -> !sleep.isAlive());
            assertThat(sleep.exitValue()).isEqualTo(128 + 9);
        } finally {
            sleep.destroyForcibly();
        }
    }

    @Test
    void shouldRefusePidOneAndTheAgentBeforeSendingAnything() throws Exception {
        Process sleep = new ProcessBuilder("sleep", "300").start();
        try {
            WorkResult pidOne = recoverer.run(context(List.of(Map.of("pid", sleep.pid(), "signal", 9), Map.of("pid", 1, "signal", 9))));
            WorkResult agent = recoverer.run(context(List.of(Map.of("pid", ProcessHandle.current().pid(), "signal", 15))));

            assertThat(pidOne.reason()).isEqualTo("Forbidden");
            assertThat(agent.reason()).isEqualTo("Forbidden");
            assertThat(sleep.isAlive()).isTrue();
        } finally {
            sleep.destroyForcibly();
        }
    }

    @Test
    void shouldFailWithTheErrorOfKill() throws Exception {
        WorkResult result = recoverer.run(context(List.of(Map.of("pid", 999_999_999, "signal", 15))));

        assertThat(result.reason()).isEqualTo("SignalFailed");
        assertThat(result.message()).contains("kill -s 15 999999999", "exit code");
    }

    @Test
    void shouldTakeTheSpecContextBeforeTheStatusContext() throws Exception {
        Process sleep = new ProcessBuilder("sleep", "300").start();
        try {
            AbnormalSpec spec = new AbnormalSpec();
            spec.context = Map.of("signalRecovery", List.of(Map.of("pid", sleep.pid(), "signal", 0)));
            WorkContext ctx = new WorkContext("u", "ns", "n", "node", spec, Map.of("signalRecovery", List.of(Map.of("pid", 1, "signal", 9))),
                    TestNodes.at(HostPaths.of(Path.of("/")), ProcessHandle.current().pid()));

            WorkResult result = recoverer.run(ctx);

            assertThat(result.succeeded()).as(result.toString()).isTrue();
            assertThat(result.contextUpdates().get("signalRecoveryResult"))
                    .isEqualTo(List.of(Map.of("pid", sleep.pid(), "signal", 0L, "sent", true)));
            assertThat(sleep.isAlive()).isTrue();
        } finally {
            sleep.destroyForcibly();
        }
    }

    @Test
    void shouldNameTheMissingInput() throws Exception {
        WorkResult result = recoverer.run(new WorkContext("u", "ns", "n", "node", new AbnormalSpec(), Map.of(),
                TestNodes.at(HostPaths.of(Path.of("/")), 1)));

        assertThat(result.reason()).isEqualTo("MissingInput");
        assertThat(result.message()).contains("signalRecovery");
    }

    @Test
    void shouldPlanTheSignalsWithoutSendingThem() throws Exception {
        Process sleep = new ProcessBuilder("sleep", "300").start();
        try {
            RecoveryPlan plan = recoverer.plan(context(List.of(Map.of("pid", sleep.pid(), "signal", 9))));
            RecoveryPlan pidOne = recoverer.plan(context(List.of(Map.of("pid", 1, "signal", 9))));

            assertThat(plan.wouldAct()).isTrue();
            assertThat(plan.plan()).isEqualTo(Map.of("signals", List.of(Map.of("pid", sleep.pid(), "signal", 9L))));
            assertThat(pidOne.wouldAct()).isFalse();
            assertThat(pidOne.reason()).isEqualTo("Forbidden");
            assertThat(sleep.waitFor(200, TimeUnit.MILLISECONDS)).isFalse();
        } finally {
            sleep.destroyForcibly();
        }
    }
}
