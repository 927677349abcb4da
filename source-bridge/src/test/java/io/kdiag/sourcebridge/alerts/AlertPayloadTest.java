package io.kdiag.sourcebridge.alerts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.kdiag.sourcebridge.Samples;
import org.junit.jupiter.api.Test;

class AlertPayloadTest {
    static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

    /** What Prometheus pushes to /api/v1/alerts. */
    static final String V1_LIST = """
            [{"labels": {"alertname": "KubePodNotReady", "namespace": "default", "pod": "web-0", "severity": "critical", "node": "node-1"},
              "annotations": {"summary": "Pod has been in a non-ready state for more than 15 minutes."},
              "startsAt": "2026-03-01T11:40:00.123456789Z", "endsAt": "2026-03-01T12:04:00Z",
              "generatorURL": "http://prometheus:9090/graph?g0.expr=kube_pod_status_phase"},
             {"labels": {"alertname": "NodeFilesystemAlmostOutOfSpace", "instance": "node-2:9100"},
              "startsAt": "2026-03-01T10:00:00Z", "endsAt": "2026-03-01T11:00:00Z"}]""";

    @Test
    void shouldReadThePrometheusV1ListAndTellResolvedByEndsAt() throws Exception {
        List<AlertPayload.Alert> alerts = AlertPayload.parse(V1_LIST, NOW).alerts();

        assertThat(alerts).extracting(AlertPayload.Alert::alertName).containsExactly("KubePodNotReady", "NodeFilesystemAlmostOutOfSpace");
        assertThat(alerts).extracting(AlertPayload.Alert::resolved).containsExactly(false, true);
        assertThat(alerts.get(0).alert().annotations).containsKey("summary");
        assertThat(alerts.get(0).fingerprint()).hasSize(16).isEqualTo(AlertPayload.fingerprint(alerts.get(0).alert().labels));
    }

    @Test
    void shouldReadTheWebhookPayloadWithItsFingerprintsAndStatuses() throws Exception {
        List<AlertPayload.Alert> alerts = AlertPayload.parse(Samples.WEBHOOK_V4, NOW).alerts();

        assertThat(alerts).extracting(AlertPayload.Alert::fingerprint).containsExactly("c0ffee0123456789", "0badcafe00000000");
        assertThat(alerts).extracting(AlertPayload.Alert::resolved).as("Go's zero endsAt is not the past").containsExactly(false, true);
    }

    @Test
    void shouldComputeAlertmanagersFingerprintOfTheSortedLabels() {
        // the same label set in any order gives the same fingerprint, a different one another
        String fingerprint = AlertPayload.fingerprint(Map.of("alertname", "A", "node", "n1"));
        assertThat(AlertPayload.fingerprint(new java.util.TreeMap<>(Map.of("node", "n1", "alertname", "A")))).isEqualTo(fingerprint);
        assertThat(AlertPayload.fingerprint(Map.of("alertname", "A", "node", "n2"))).isNotEqualTo(fingerprint);
        // FNV-1a 64 of the empty input is its offset basis, as in prometheus/common
        assertThat(AlertPayload.fingerprint(Map.of())).isEqualTo("cbf29ce484222325");
    }

    @Test
    void shouldRefuseABodyThatIsNoAlertPayloadWithTheReason() {
        assertThatThrownBy(() -> AlertPayload.parse("[{\"labels\": ", NOW)).hasMessageStartingWith("the body is not valid JSON: ");
        assertThatThrownBy(() -> AlertPayload.parse("{\"version\": \"4\"}", NOW)).hasMessageStartingWith("the body is an object without an \"alerts\" list");
        assertThatThrownBy(() -> AlertPayload.parse("\"firing\"", NOW)).hasMessageStartingWith("the body must be a list of alerts");
    }

    @Test
    void shouldSetAsideEachEntryThatIsNotAnAlertAndReadTheOthers() throws Exception {
        // as KubeDiag, alert by alert: an alert without labels, or mistyped, does not sink the others
        AlertPayload.Payload payload = AlertPayload.parse("""
                [{"labels": {"alertname": 1}},
                 {"labels": {"alertname": "KubePodNotReady", "node": "node-1"}},
                 {"annotations": {"summary": "no labels at all"}},
                 {"labels": {"alertname": "A"}, "startsAt": "yesterday"},
                 1]""", NOW);

        assertThat(payload.alerts()).extracting(AlertPayload.Alert::alertName).containsExactly("KubePodNotReady");
        assertThat(payload.invalid()).extracting(AlertPayload.Invalid::message).containsExactly(
                "[0].labels.alertname must be a string, not a number",
                "[2].labels.alertname is required",
                "[3].startsAt must be an RFC 3339 time such as 2026-01-31T12:00:00Z, not 'yesterday'",
                "[4] must be an object, not a number");
        assertThat(payload.invalid().get(1).entry()).isEqualTo(Map.of("annotations", Map.of("summary", "no labels at all")));
        assertThat(AlertPayload.parse("{\"alerts\": [{\"labels\": {}}]}", NOW).invalid()).extracting(AlertPayload.Invalid::message)
                .containsExactly("alerts[0].labels.alertname is required");
    }
}
