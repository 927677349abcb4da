package io.kdiag.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Arrays;
import java.util.Map;

import io.kdiag.schemas.avro.ApprovalDecided;
import io.kdiag.schemas.avro.ApprovalRequested;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageOutcome;
import io.kdiag.schemas.avro.UnknownPayload;
import io.kdiag.testkit.Events;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class EventSummaryTest {
    @Test
    void shouldReadBackEverySummaryItWrites() {
        Events e = new Events("uid-1");
        e.accepted();
        e.processorFinished(Stage.InformationCollection, Events.POD_COLLECTOR, "{\"pods\":[]}");
        e.command(Stage.Diagnosis, "du", "-sh", "/var/lib/kubelet");
        e.profiler("java", "http://10.0.0.1:8090/profilers/x");
        e.profilerExpired("java");
        e.stageFinished(Stage.Diagnosis, StageOutcome.Failed, null);
        e.abnormalFailed("Timeout", "x".repeat(70_000));
        e.add(new UnknownPayload("io.kdiag.schemas.avro.RecoveryVerified", "{}"));

        for (DiagnosisEvent event : e.all()) {
            EventSummary summary = EventSummary.of(event);
            byte[] bytes = summary.encode();
            assertThat(EventSummary.decode(bytes)).isEqualTo(summary);
        }
    }

    @Test
    void shouldListOnlyTheFieldsAnEventHas() {
        Events e = new Events("uid-1");
        e.accepted();
        DiagnosisEvent finished = e.processorFinished(Stage.InformationCollection, Events.POD_COLLECTOR, "{}");

        Map<String, Object> map = EventSummary.of(finished).toMap();

        assertThat(map).containsExactly(Map.entry("seq", 1L), Map.entry("time", "2020-08-13T07:44:43.000Z"),
                Map.entry("type", "ProcessorFinished"), Map.entry("stage", "InformationCollection"),
                Map.entry("processor", "kube-diagnoser/pod-collector"), Map.entry("outcome", "Succeeded"),
                Map.entry("durationMillis", 10L));
    }

    @Test
    void shouldListTheWaitForApprovalAndTheDecision() {
        Events e = new Events("uid-1");
        e.accepted();
        NamespacedName recoverer = new NamespacedName("kube-diagnoser", "signal-recoverer");
        DiagnosisEvent asked = e.add(new ApprovalRequested(recoverer, "{}", "the label kdiag.io/require-approval of the abnormal",
                Instant.parse("2020-08-13T08:44:43Z")));
        DiagnosisEvent decided = e.add(new ApprovalDecided(recoverer, false, "bob", "not now"));

        assertThat(EventSummary.of(asked).toMap()).containsEntry("processor", "kube-diagnoser/signal-recoverer")
                .containsEntry("reason", "WaitingForApproval")
                .containsEntry("message", "required by the label kdiag.io/require-approval of the abnormal; expires at 2020-08-13T08:44:43.000Z");
        assertThat(EventSummary.of(decided).toMap()).containsEntry("outcome", "Denied").containsEntry("reason", "not now")
                .containsEntry("message", "decided by bob");
        assertThat(EventSummary.decode(EventSummary.of(decided).encode())).isEqualTo(EventSummary.of(decided));
    }

    @Test
    void shouldNameAPayloadOfALaterVersionByItsOwnTypeWithItsJson() {
        Events e = new Events("uid-1");
        e.accepted();
        DiagnosisEvent unknown = e.add(new UnknownPayload("io.kdiag.schemas.avro.RecoveryVerified", "{\"verified\": true}"));

        assertThat(EventSummary.of(unknown).toMap()).containsExactly(Map.entry("seq", 1L), Map.entry("time", "2020-08-13T07:44:43.000Z"),
                Map.entry("type", "RecoveryVerified"), Map.entry("message", "{\"verified\": true}"));
    }

    @Test
    void shouldWriteTimesAsRfc3339WithMilliseconds() {
        assertThat(EventSummary.rfc3339Millis(Instant.parse("2026-01-02T03:04:05.678912Z"))).isEqualTo("2026-01-02T03:04:05.678Z");
        assertThat(EventSummary.rfc3339Millis(Instant.parse("0999-12-31T23:59:59Z"))).isEqualTo("0999-12-31T23:59:59.000Z");
    }

    @Test
    void shouldRefuseTruncatedOrUnknownValues() {
        Events e = new Events("uid-1");
        byte[] bytes = EventSummary.of(e.command(Stage.Diagnosis, "ls")).encode();
        byte[] unknown = bytes.clone();
        unknown[0] = 9;

        assertThatThrownBy(() -> EventSummary.decode(Arrays.copyOf(bytes, bytes.length - 3)))
                .isInstanceOf(SerializationException.class).hasMessageContaining("truncated");
        assertThatThrownBy(() -> EventSummary.decode(unknown))
                .isInstanceOf(SerializationException.class).hasMessageContaining("version 9");
    }
}
