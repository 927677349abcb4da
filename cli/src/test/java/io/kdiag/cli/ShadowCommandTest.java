package io.kdiag.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;

import io.kdiag.client.ShadowReport;
import io.kdiag.model.ShadowVerdict;
import io.kdiag.schemas.avro.Stage;
import org.junit.jupiter.api.Test;

class ShadowCommandTest {
    private static final Instant SINCE = Instant.parse("2026-12-02T10:00:00Z");

    @Test
    void shouldPrintTheCountsThenTheDisagreementsInColumns() {
        ShadowReport report = new ShadowReport("kube-diagnoser/signal-recoverer", SINCE, 3, 1, 2, 0, 3, 0, List.of(
                new ShadowReport.Comparison("default", "kill-sleep", "4c40a0e7-e32d", SINCE.plusSeconds(60), Stage.Recovery,
                        ShadowVerdict.WOULD_ACT, "would act: {\"signals\":[{\"pid\":4711,\"signal\":15}]}", false,
                        "skipped: skipRecovery is set")));

        assertThat(ShadowCommand.Report.text(report)).isEqualTo("""
                Shadow kube-diagnoser/signal-recoverer on abnormals accepted since 2026-12-02T10:00:00Z:

                RUNS   AGREED   DISAGREED   IDENTIFIED   WOULD-ACT   NO-VERDICT
                3      1        2           0            3           0

                Disagreements, newest first:
                NAME                 UID        STAGE      SHADOW                                              REAL
                default/kill-sleep   4c40a0e7   Recovery   would act: {"signals":[{"pid":4711,"signal":15}]}   skipped: skipRecovery is set
                """);
    }

    @Test
    void shouldSayWhenTheShadowNeverRan() {
        assertThat(ShadowCommand.Report.text(new ShadowReport("x", SINCE, 0, 0, 0, 0, 0, 0, List.of())))
                .startsWith("No runs of shadow x on abnormals accepted since 2026-12-02T10:00:00Z");
    }
}
