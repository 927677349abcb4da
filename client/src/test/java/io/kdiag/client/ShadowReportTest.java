package io.kdiag.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import io.kdiag.model.ShadowVerdict;
import io.kdiag.schemas.avro.ShadowFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.StageOutcome;
import io.kdiag.schemas.avro.StageStarted;
import io.kdiag.testkit.RecordedEvents;
import org.junit.jupiter.api.Test;

class ShadowReportTest {
    private static final String SPEC = "{\"nodeName\":\"node-1\"}";
    private final EventLog log = new EventLog();

    private static ShadowFinished shadowDiagnoser(boolean identified, String updates, String reason) {
        return new ShadowFinished(Stage.Diagnosis, RecordedEvents.builtin("anchored-diagnoser"), identified, updates, null, reason, null, 4L);
    }

    private void record(RecordedEvents events) {
        events.list().forEach(log::add);
    }

    @Test
    void shouldCompareAShadowDiagnosersVerdictsWithTheRealChains() {
        // agrees: both identified
        record(new RecordedEvents("u1").accepted("both", SPEC).diagnosed(1_000, "process-match-diagnoser", true, "{\"signalRecovery\":[]}", null)
                .at(1_010, shadowDiagnoser(true, "{\"signalRecovery\":[]}", null)));
        // disagrees: the real one identified, the shadow not
        record(new RecordedEvents("u2").accepted("stricter", SPEC).diagnosed(2_000, "process-match-diagnoser", true, "{}", null)
                .at(2_010, shadowDiagnoser(false, null, "NoMatchingProcess")));
        // disagrees: the shadow identified where the real chain did not
        record(new RecordedEvents("u3").accepted("looser", SPEC).diagnosed(3_000, "process-match-diagnoser", false, null, "NoMatchingProcess")
                .at(3_010, shadowDiagnoser(true, "{\"processMatchDiagnosis\":[],\"signalRecovery\":[]}", null)));
        // no verdict: counted apart
        record(new RecordedEvents("u4").accepted("timed-out", SPEC).diagnosed(4_000, "process-match-diagnoser", true, "{}", null)
                .at(4_010, shadowDiagnoser(false, null, "Timeout")));
        // another shadow, and a run before --since: not this report's
        record(new RecordedEvents("u5").accepted("other", SPEC).diagnosed(5_000, "process-match-diagnoser", true, "{}", null)
                .at(5_010, new ShadowFinished(Stage.Diagnosis, RecordedEvents.builtin("other"), false, null, null, "X", null, 1L)));

        ShadowReport report = ShadowReport.of(log, "anchored-diagnoser", RecordedEvents.T0, 5);
        ShadowReport later = ShadowReport.of(log, "kube-diagnoser/anchored-diagnoser", RecordedEvents.T0.plusSeconds(1), 1);

        assertThat(report.runs()).isEqualTo(4);
        assertThat(report.agreed()).isEqualTo(1);
        assertThat(report.disagreed()).isEqualTo(2);
        assertThat(report.identified()).isEqualTo(2);
        assertThat(report.wouldHaveActed()).isZero();
        assertThat(report.noVerdict()).isEqualTo(1);
        assertThat(report.disagreements()).extracting(ShadowReport.Comparison::name, ShadowReport.Comparison::shadowDetail,
                ShadowReport.Comparison::realDetail).containsExactly(
                        org.assertj.core.groups.Tuple.tuple("looser", "identified: processMatchDiagnosis, signalRecovery", "not identified (DiagnosisFailed)"),
                        org.assertj.core.groups.Tuple.tuple("stricter", "not identified (NoMatchingProcess)", "identified by kube-diagnoser/process-match-diagnoser"));
        assertThat(later.runs()).isZero();
    }

    @Test
    void shouldCountWhatAShadowRecovererWouldHaveDoneWhereNothingActed() {
        String plan = "{\"signals\":[{\"pid\":4711,\"signal\":15}]}";
        record(new RecordedEvents("u1").accepted("kill-sleep", SPEC)
                .diagnosed(1_000, "process-match-diagnoser", true, "{}", null)
                .at(2_000, new StageStarted(Stage.Recovery))
                .at(2_001, new StageFinished(Stage.Recovery, StageOutcome.Skipped, null, null, "skipRecovery is set"))
                .at(2_010, new ShadowFinished(Stage.Recovery, RecordedEvents.builtin("signal-recoverer"), true, null, plan, null, null, 2L)));
        record(new RecordedEvents("u2").accepted("recovered", SPEC)
                .diagnosed(3_000, "process-match-diagnoser", true, "{}", null)
                .at(4_000, new StageStarted(Stage.Recovery))
                .at(4_001, new StageFinished(Stage.Recovery, StageOutcome.Succeeded, RecordedEvents.builtin("signal-recoverer"), null, null))
                .at(4_010, new ShadowFinished(Stage.Recovery, RecordedEvents.builtin("signal-recoverer"), true, null, plan, null, null, 2L)));

        ShadowReport report = ShadowReport.of(log, "signal-recoverer", RecordedEvents.T0, 5);

        assertThat(report.runs()).isEqualTo(2);
        assertThat(report.wouldHaveActed()).isEqualTo(2);
        assertThat(report.agreed()).isEqualTo(1);
        assertThat(report.disagreements()).singleElement().satisfies(c -> {
            assertThat(c.name()).isEqualTo("kill-sleep");
            assertThat(c.shadow()).isEqualTo(ShadowVerdict.WOULD_ACT);
            assertThat(c.shadowDetail()).isEqualTo("would act: " + plan);
            assertThat(c.real()).isFalse();
            assertThat(c.realDetail()).isEqualTo("skipped: skipRecovery is set");
        });
        assertThat(report.toMap()).containsEntry("wouldHaveActed", 2).containsKey("disagreements");
        assertThat((List<?>) report.toMap().get("disagreements")).hasSize(1);
    }
}
