package io.kdiag.stageworkers;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.List;
import java.util.Map;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.stageworkers.spi.WorkResult;
import org.junit.jupiter.api.Test;

/**
 * A remote processor's answer judged as KubeDiag v0.1.6's Go agent judged it (its {@code DoHTTPRequestWithAbnormal} and
 * {@code ValidateAbnormalResult}, and their tests, restated): the answer decoded onto what was sent, only
 * {@code status.context} may change, Go's zero values and time offsets are no change.
 */
class ProcessorAnswerTest {
    private static final URI URL = URI.create("http://10.96.12.40:8080/diagnose");

    /** What the agent sends a collector: an event's abnormal while collecting, with fields v0.1.6's Go types lack. */
    private static final String SENT = """
            {"apiVersion": "diagnosis.netease.com/v1", "kind": "Abnormal",
             "metadata": {"name": "kubernetes-event.shop.cart-7d9f.1", "namespace": "kube-diagnoser", "uid": "u1"},
             "spec": {"source": "KubernetesEvent",
               "kubernetesEvent": {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "cart-7d9f.1", "namespace": "shop"},
                 "involvedObject": {"kind": "Pod", "name": "cart-7d9f", "namespace": "shop"}, "reason": "Unhealthy",
                 "source": {"component": "kubelet", "host": "node-2"}, "firstTimestamp": "2021-03-01T08:10:12Z", "count": 3},
               "nodeName": "node-2", "podReference": {"namespace": "shop", "name": "cart-7d9f"},
               "assignedInformationCollectors": [{"namespace": "sre-tools", "name": "heap-collector"}],
               "profilers": [{"name": "py", "type": "Diagnoser", "python": {"pid": 4242}}],
               "skipRecovery": true},
             "status": {"identifiable": false, "recoverable": false, "phase": "InformationCollecting",
               "startTime": "2021-03-01T08:12:43Z",
               "conditions": [{"type": "InformationCollected", "status": "False", "lastTransitionTime": "2021-03-01T08:12:44Z"}],
               "context": {"podInformation": [{"metadata": {"name": "cart-7d9f"}}], "processInformation": [{"pid": 1}]}}}
            """;

    /**
     * The same abnormal as a processor built on v0.1.6's Go types writes it back: the fields it does not know left out
     * ({@code skipRecovery}, {@code python}), zero values written out, times as it formats them.
     */
    private static final String GO_ECHO = """
            {"apiVersion":"diagnosis.netease.com/v1","kind":"Abnormal","metadata":{"name":"kubernetes-event.shop.cart-7d9f.1",
             "namespace":"kube-diagnoser","uid":"u1","creationTimestamp":null},
             "spec":{"source":"KubernetesEvent","kubernetesEvent":{"kind":"Event","apiVersion":"v1","metadata":{"name":"cart-7d9f.1",
               "namespace":"shop","creationTimestamp":null},"involvedObject":{"kind":"Pod","namespace":"shop","name":"cart-7d9f"},
               "reason":"Unhealthy","source":{"component":"kubelet","host":"node-2"},"firstTimestamp":"2021-03-01T16:10:12+08:00",
               "lastTimestamp":null,"count":3,"eventTime":null,"reportingComponent":"","reportingInstance":""},
               "nodeName":"node-2","podReference":{"namespace":"shop","name":"cart-7d9f"},
               "assignedInformationCollectors":[{"namespace":"sre-tools","name":"heap-collector"}],
               "profilers":[{"name":"py","type":"Diagnoser","timeoutSeconds":0,"expirationSeconds":0}]},
             "status":{"identifiable":false,"recoverable":false,"phase":"InformationCollecting","startTime":"2021-03-01T16:12:43+08:00",
               "conditions":[{"type":"InformationCollected","status":"False","lastTransitionTime":"2021-03-01T08:12:44Z"}],
               "context":{"podInformation":[{"metadata":{"name":"cart-7d9f"}}],"processInformation":[{"pid":1}],
                 "heapInformation":{"usedBytes":1024}}}}
            """;

    private static WorkResult answer(String body) {
        return RemoteProcessor.compare(URL, ApiSerialization.json(ApiSerialization.abnormal(SENT)), body);
    }

    @Test
    void shouldTakeWhatAGoProcessorOfKubeDiagWritesBack() {
        WorkResult result = answer(GO_ECHO);

        assertThat(result.succeeded()).as(result.toString()).isTrue();
        assertThat(result.contextUpdates()).isEqualTo(Map.of("heapInformation", Map.of("usedBytes", 1024)));
        assertThat(result.removedKeys()).isEmpty();
    }

    @Test
    void shouldTakeAnEmptyObjectOrNullAsNothingChanged() {
        for (String body : List.of("{}", "null", "{\"status\": {}}", "{\"spec\": null, \"status\": null}", "{\"metadata\": {}}")) {
            WorkResult result = answer(body);
            assertThat(result.succeeded()).as(body + " " + result).isTrue();
            assertThat(result.contextUpdates()).as(body).isEmpty();
            assertThat(result.removedKeys()).as(body).isEmpty();
        }
    }

    @Test
    void shouldReplaceTheContextWithTheAnswersAndRemoveItWithNull() {
        WorkResult replaced = answer("{\"status\": {\"context\": {\"processInformation\": []}}}");
        WorkResult removed = answer("{\"status\": {\"context\": null}}");

        assertThat(replaced.contextUpdates()).isEqualTo(Map.of("processInformation", List.of()));
        assertThat(replaced.removedKeys()).containsExactly("podInformation");
        assertThat(removed.succeeded()).isTrue();
        assertThat(removed.contextUpdates()).isEmpty();
        assertThat(removed.removedKeys()).containsExactlyInAnyOrder("podInformation", "processInformation");
    }

    @Test
    void shouldCompareTimesAsInstants() {
        assertThat(answer("{\"status\": {\"startTime\": \"2021-03-01T16:12:43+08:00\"}}").succeeded()).isTrue();
        assertThat(answer("""
                {"status": {"conditions": [{"type": "InformationCollected", "status": "False",
                  "lastTransitionTime": "2021-03-01T09:12:44+01:00"}]}}""").succeeded()).isTrue();

        WorkResult later = answer("{\"status\": {\"startTime\": \"2021-03-01T08:12:44Z\"}}");
        assertThat(later.reason()).isEqualTo("InvalidResponse");
        assertThat(later.message()).isEqualTo("processor " + URL + " changed status.startTime; only status.context may change");
        assertThat(answer("{\"status\": {\"startTime\": \"2021-03-01T08:12:43.5Z\"}}").message()).contains("changed status.startTime");
    }

    @Test
    void shouldRefuseAChangeToWhatKubeDiagProtected() {
        assertThat(answer("{\"spec\": {\"nodeName\": \"node-3\"}}").message()).contains("changed spec;");
        assertThat(answer("{\"spec\": {\"source\": \"Custom\"}}").message()).contains("changed spec;");
        assertThat(answer("{\"spec\": {\"podReference\": null}}").message()).as("null on a pointer removes it").contains("changed spec;");
        assertThat(answer("{\"status\": {\"identifiable\": true}}").message()).contains("changed status.identifiable;");
        assertThat(answer("{\"status\": {\"recoverable\": true}}").message()).contains("changed status.recoverable;");
        assertThat(answer("{\"status\": {\"phase\": \"Failed\"}}").message()).contains("changed status.phase;");
        assertThat(answer("{\"status\": {\"conditions\": []}}").message()).contains("changed status.conditions;");
        assertThat(answer("{\"status\": {\"message\": \"done\"}}").message()).contains("changed status.message;");
        assertThat(answer("{\"status\": {\"reason\": \"Done\"}}").message()).contains("changed status.reason;");
        assertThat(answer("{\"status\": {\"diagnoser\": {\"namespace\": \"x\", \"name\": \"y\"}}}").message())
                .contains("changed status.diagnoser;");
        assertThat(answer("{\"status\": {\"recoverer\": {\"namespace\": \"x\", \"name\": \"y\"}}}").message())
                .contains("changed status.recoverer;");
    }

    @Test
    void shouldRefuseWhatIsNoAbnormal() {
        assertThat(answer("[]").message()).isEqualTo("processor " + URL + " did not answer an Abnormal: the body is a list, not an object");
        assertThat(answer("\"\"").message()).contains("the body is a String, not an object");
        assertThat(answer("").message()).contains("the body is empty");
        assertThat(answer("{\"status\": {\"context\": [1]}}").message()).contains("status.context must be an object");
        // a mistyped field hidden before the real one: which of the two counts must not be a guess
        assertThat(answer("{\"status\": {\"conditions\": \"broken\", \"conditions\": []}}").message())
                .contains("the body is not JSON: Duplicate Object property \"conditions\"");
    }
}
