package io.kdiag.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import io.kdiag.schemas.avro.AbnormalFailed;
import io.kdiag.schemas.avro.ApprovalDecided;
import io.kdiag.schemas.avro.ApprovalRequested;
import io.kdiag.schemas.avro.CommandFinished;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.ShadowFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.StageOutcome;
import io.kdiag.schemas.avro.UnknownPayload;
import io.kdiag.testkit.RecordedEvents;
import org.junit.jupiter.api.Test;

class EventTextTest {
    private static final String SPEC = "{\"nodeName\":\"node-1\"}";

    @Test
    void shouldDescribeEachEventOnOneWatchLine() {
        List<DiagnosisEvent> events = new RecordedEvents("u1").accepted("x", SPEC).collected(1_000, "[]")
                .diagnosed(2_000, "process-match-diagnoser", false, null, "NoMatchingProcess").list();
        EventText.Describer describer = new EventText.Describer();

        List<String> lines = events.stream().map(e -> EventText.watchLine(describer.describe(e), ZoneOffset.UTC)).toList();

        assertThat(lines).containsExactly(
                "12:01:00  -                      abnormal  accepted on node node-1 (origin IngestTopic)",
                "12:01:01  InformationCollection  stage  started",
                "12:01:01  InformationCollection  process-collector  started",
                "12:01:01  InformationCollection  process-collector  succeeded (120 ms)",
                "12:01:01  InformationCollection  stage  succeeded (130 ms)",
                "12:01:02  Diagnosis              stage  started",
                "12:01:02  Diagnosis              process-match-diagnoser  failed: NoMatchingProcess (3 ms)",
                "12:01:02  Diagnosis              stage  failed: DiagnosisFailed: no diagnoser succeeded (5 ms)");
    }

    @Test
    void shouldTabulateTheHistoryWithStepAndStageDurations() {
        List<DiagnosisEvent> events = new RecordedEvents("u1").accepted("x", SPEC).collected(1_000, "[]")
                .at(1_500, new CommandFinished(Stage.InformationCollection, List.of("dd", "if=/dev/zero"), "", "",
                        "CommandNotAllowed: dd is not in the allowlist", 0L))
                .at(61_200, new AbnormalFailed("AgentRestarted", "agent restarted while the abnormal was running"))
                .list();

        String table = EventText.historyTable(events, ZoneOffset.UTC);

        assertThat(table.lines().findFirst()).hasValueSatisfying(header ->
                assertThat(header.split(" +")).containsExactly("SEQ", "TIME", "STAGE", "STEP", "TOOK", "WHAT"));
        assertThat(table).contains("3     12:01:01.121   InformationCollection   process-collector         120 ms   succeeded\n")
                .contains("4     12:01:01.130   InformationCollection   stage                     130 ms   succeeded\n")
                .contains("5     12:01:01.500   InformationCollection   command dd if=/dev/zero   0 ms     "
                        + "failed: CommandNotAllowed: dd is not in the allowlist\n")
                .contains("6     12:02:01.200   -                       abnormal                           "
                        + "failed: AgentRestarted: agent restarted while the abnormal was running\n")
                .endsWith("7 events over 1m01s\n");
    }

    @Test
    void shouldShowAnEventOfALaterVersionByItsTypeAndJson() {
        List<DiagnosisEvent> events = new RecordedEvents("u1").accepted("x", SPEC)
                .at(500, new UnknownPayload("io.kdiag.schemas.avro.RecoveryVerified", "{\"verified\": true}"))
                .at(600, new StageFinished(Stage.Unknown, StageOutcome.Unknown, null, null, null)).list();
        EventText.Describer describer = new EventText.Describer();

        List<String> lines = events.stream().map(e -> EventText.watchLine(describer.describe(e), ZoneOffset.UTC)).toList();

        assertThat(lines).containsExactly(
                "12:01:00  -                      abnormal  accepted on node node-1 (origin IngestTopic)",
                "12:01:00  -                      RecoveryVerified  (written by a later version) {\"verified\": true}",
                "12:01:00  Unknown                stage  unknown");
    }

    @Test
    void shouldShowTheWaitForApprovalItsPlanAndWhoDecided() {
        NamespacedName recoverer = new NamespacedName("kube-diagnoser", "signal-recoverer");
        List<DiagnosisEvent> events = new RecordedEvents("u1").accepted("x", SPEC)
                .at(500, new ApprovalRequested(recoverer, "{\"node\":\"node-1\"}", "the label kdiag.io/require-approval of the abnormal",
                        Instant.parse("2026-12-03T13:01:00Z")))
                .at(90_000, new ApprovalDecided(recoverer, false, "bob", "not now"))
                .at(90_100, new ApprovalDecided(recoverer, false, "node-agent node-1", "Expired")).list();
        EventText.Describer describer = new EventText.Describer();

        List<String> lines = events.stream().map(e -> EventText.watchLine(describer.describe(e), ZoneOffset.UTC)).toList();

        assertThat(lines).containsSubsequence(
                "12:01:00  Recovery               signal-recoverer  waits for approval (required by the label kdiag.io/require-approval "
                        + "of the abnormal) until 2026-12-03T13:01:00Z; would run {\"node\":\"node-1\"}",
                "12:02:30  Recovery               signal-recoverer  denied by bob: not now",
                "12:02:30  Recovery               signal-recoverer  not approved in time (Expired)");
    }

    @Test
    void shouldMarkShadowRunsAsChangingNothingAndSayWhatTheyWouldHaveDone() {
        List<DiagnosisEvent> events = new RecordedEvents("u1").accepted("x", SPEC)
                .at(500, new ShadowFinished(Stage.Diagnosis, RecordedEvents.builtin("anchored-diagnoser"), true,
                        "{\"processMatchDiagnosis\":[],\"signalRecovery\":[]}", null, null, null, 12L))
                .at(600, new ShadowFinished(Stage.Recovery, RecordedEvents.builtin("signal-recoverer"), true, null,
                        "{\"signals\":[{\"pid\":4711,\"signal\":15}]}", null, "would send 1 signal", 2L))
                .at(700, new ShadowFinished(Stage.Recovery, RecordedEvents.builtin("restarter"), false, null, null, "Forbidden",
                        "no grant allows it", 0L))
                .list();
        EventText.Describer describer = new EventText.Describer();

        List<String> lines = events.stream().map(e -> EventText.watchLine(describer.describe(e), ZoneOffset.UTC)).toList();

        assertThat(lines).containsExactly(
                "12:01:00  -                      abnormal  accepted on node node-1 (origin IngestTopic)",
                "12:01:00  Diagnosis              shadow anchored-diagnoser  (shadow, no effect) identified: processMatchDiagnosis, "
                        + "signalRecovery (12 ms)",
                "12:01:00  Recovery               shadow signal-recoverer  (shadow, no effect) would act: "
                        + "{\"signals\":[{\"pid\":4711,\"signal\":15}]} (2 ms)",
                "12:01:00  Recovery               shadow restarter  (shadow, no effect) no verdict: Forbidden: no grant allows it (0 ms)");
    }

    @Test
    void shouldWriteDurationsTheWayPeopleReadThem() {
        assertThat(EventText.duration(Duration.ofMillis(120))).isEqualTo("120 ms");
        assertThat(EventText.duration(Duration.ofMillis(4_250))).isEqualTo("4.3 s");
        assertThat(EventText.duration(Duration.ofSeconds(185))).isEqualTo("3m05s");
        assertThat(EventText.duration(Duration.ofMinutes(130))).isEqualTo("2h10m");
    }
}
