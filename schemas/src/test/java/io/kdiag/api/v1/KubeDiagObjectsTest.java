package io.kdiag.api.v1;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.CrdSchemas;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every kind of KubeDiag v0.1.6, as its users have the objects ({@code examples/kubediag/}), goes through our CRDs and
 * our model unchanged: the API server would prune nothing and refuse nothing, and reading the object into the model and
 * writing it back gives the same JSON. The fixtures use every field v0.1.6 defines, which this test checks too.
 */
class KubeDiagObjectsTest {
    private static final Path FIXTURES = Path.of("..", "examples", "kubediag");
    private static final Map<String, Class<? extends HasMetadata>> MODEL = Map.of("Abnormal", Abnormal.class, "AbnormalSource",
            AbnormalSource.class, "InformationCollector", InformationCollector.class, "Diagnoser", Diagnoser.class, "Recoverer",
            Recoverer.class);

    /** Every field of v0.1.6's api/v1 types, by kind, restated from its Go structs ({@code []} = any element). */
    private static final Map<String, List<String>> V016_FIELDS = Map.of(
            "Abnormal", List.of("spec.source", "spec.prometheusAlert.labels", "spec.prometheusAlert.annotations",
                    "spec.prometheusAlert.startsAt", "spec.prometheusAlert.endsAt", "spec.prometheusAlert.generatorURL",
                    "spec.kubernetesEvent.metadata.name", "spec.kubernetesEvent.involvedObject.fieldPath", "spec.kubernetesEvent.reason",
                    "spec.kubernetesEvent.source.host", "spec.kubernetesEvent.firstTimestamp", "spec.kubernetesEvent.count",
                    "spec.kubernetesEvent.eventTime", "spec.kubernetesEvent.reportingComponent", "spec.nodeName",
                    "spec.podReference.namespace", "spec.podReference.name", "spec.podReference.containerName",
                    "spec.assignedInformationCollectors[].namespace", "spec.assignedInformationCollectors[].name",
                    "spec.assignedDiagnosers[].name", "spec.assignedRecoverers[].name", "spec.commandExecutors[].command",
                    "spec.commandExecutors[].type", "spec.commandExecutors[].timeoutSeconds", "spec.profilers[].name",
                    "spec.profilers[].type", "spec.profilers[].go.source", "spec.profilers[].java.type",
                    "spec.profilers[].java.hprofFilePath", "spec.profilers[].timeoutSeconds", "spec.profilers[].expirationSeconds",
                    "spec.context", "status.identifiable", "status.recoverable", "status.phase", "status.conditions[].type",
                    "status.conditions[].status", "status.conditions[].lastTransitionTime", "status.conditions[].reason",
                    "status.conditions[].message", "status.message", "status.reason", "status.startTime", "status.diagnoser.name",
                    "status.recoverer.namespace", "status.commandExecutors[].command", "status.commandExecutors[].type",
                    "status.commandExecutors[].stdout", "status.commandExecutors[].stderr", "status.commandExecutors[].error",
                    "status.profilers[].name", "status.profilers[].type", "status.profilers[].endpoint", "status.profilers[].error",
                    "status.context"),
            "AbnormalSource", List.of("spec.sourceTemplate.type", "spec.sourceTemplate.prometheusAlertTemplate.regexp.alertName",
                    "spec.sourceTemplate.prometheusAlertTemplate.regexp.labels",
                    "spec.sourceTemplate.prometheusAlertTemplate.regexp.annotations",
                    "spec.sourceTemplate.prometheusAlertTemplate.regexp.startsAt",
                    "spec.sourceTemplate.prometheusAlertTemplate.regexp.endsAt",
                    "spec.sourceTemplate.prometheusAlertTemplate.regexp.generatorURL",
                    "spec.sourceTemplate.prometheusAlertTemplate.nodeNameReferenceLabel",
                    "spec.sourceTemplate.kubernetesEventTemplate.regexp.name", "spec.sourceTemplate.kubernetesEventTemplate.regexp.namespace",
                    "spec.sourceTemplate.kubernetesEventTemplate.regexp.involvedObject.kind",
                    "spec.sourceTemplate.kubernetesEventTemplate.regexp.involvedObject.namespace",
                    "spec.sourceTemplate.kubernetesEventTemplate.regexp.involvedObject.name",
                    "spec.sourceTemplate.kubernetesEventTemplate.regexp.involvedObject.uid",
                    "spec.sourceTemplate.kubernetesEventTemplate.regexp.involvedObject.apiVersion",
                    "spec.sourceTemplate.kubernetesEventTemplate.regexp.involvedObject.resourceVersion",
                    "spec.sourceTemplate.kubernetesEventTemplate.regexp.involvedObject.fieldPath",
                    "spec.sourceTemplate.kubernetesEventTemplate.regexp.reason", "spec.sourceTemplate.kubernetesEventTemplate.regexp.message",
                    "spec.sourceTemplate.kubernetesEventTemplate.regexp.source.component",
                    "spec.sourceTemplate.kubernetesEventTemplate.regexp.source.host",
                    "spec.sourceTemplate.kubernetesEventTemplate.regexp.firstTimestamp",
                    "spec.sourceTemplate.kubernetesEventTemplate.regexp.lastTimestamp",
                    "spec.sourceTemplate.kubernetesEventTemplate.regexp.count", "spec.sourceTemplate.kubernetesEventTemplate.regexp.type",
                    "spec.sourceTemplate.kubernetesEventTemplate.regexp.action",
                    "spec.sourceTemplate.kubernetesEventTemplate.regexp.reportingController",
                    "spec.sourceTemplate.kubernetesEventTemplate.regexp.reportingInstance",
                    "spec.assignedInformationCollectors[].name", "spec.assignedDiagnosers[].name", "spec.assignedRecoverers[].name",
                    "spec.commandExecutors[].command", "spec.profilers[].go.source", "spec.context", "status.lastAbnormal.name"),
            "InformationCollector", List.of("spec.path", "spec.scheme", "spec.timeoutSeconds"),
            "Diagnoser", List.of("spec.externalIP", "spec.externalPort", "spec.path", "spec.scheme", "spec.timeoutSeconds"),
            "Recoverer", List.of("spec.path", "spec.scheme", "spec.timeoutSeconds"));

    static Stream<Arguments> objects() throws IOException {
        List<Arguments> objects = new ArrayList<>();
        for (Map.Entry<String, Map<String, Object>> entry : fixtures().entrySet()) {
            objects.add(Arguments.of(entry.getKey(), entry.getValue()));
        }
        return objects.stream();
    }

    private static Map<String, Map<String, Object>> fixtures() throws IOException {
        Map<String, Map<String, Object>> objects = new LinkedHashMap<>();
        try (Stream<Path> files = Files.list(FIXTURES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                for (Map<String, Object> object : ApiSerialization.documents(Files.readString(file))) {
                    Map<?, ?> metadata = (Map<?, ?>) object.get("metadata");
                    objects.put(file.getFileName() + ": " + object.get("kind") + " " + metadata.get("name"), object);
                }
            }
        }
        return objects;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("objects")
    void shouldKeepEveryFieldThroughTheCrd(String name, Map<String, Object> object) {
        CrdSchemas.Admitted admitted = CrdSchemas.admit((String) object.get("kind"), object).orElseThrow();
        assertThat(admitted.pruned()).as("pruned").isEmpty();
        assertThat(admitted.invalid()).as("refused").isEmpty();
        assertThat(admitted.kept()).isEqualTo(object);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("objects")
    void shouldKeepEveryFieldThroughTheModel(String name, Map<String, Object> object) {
        HasMetadata read = ApiSerialization.convert(object, MODEL.get((String) object.get("kind")));
        Map<String, Object> written = ApiSerialization.jsonObject(ApiSerialization.json(read));
        // fabric8's Event always writes its type, apiVersion v1 and kind Event; KubeDiag's Go type ignores them
        if (written.get("spec") instanceof Map<?, ?> spec && spec.get("kubernetesEvent") instanceof Map<?, ?> event) {
            assertThat(event.remove("apiVersion")).isEqualTo("v1");
            assertThat(event.remove("kind")).isEqualTo("Event");
        }
        assertThat(written).isEqualTo(ApiSerialization.jsonObject(ApiSerialization.json(object)));
    }

    @Test
    void shouldUseEveryFieldOfKubeDiagInTheFixtures() throws IOException {
        Map<String, List<Map<String, Object>>> byKind = new LinkedHashMap<>();
        fixtures().values().forEach(o -> byKind.computeIfAbsent((String) o.get("kind"), k -> new ArrayList<>()).add(o));
        assertThat(byKind.keySet()).containsExactlyInAnyOrderElementsOf(CrdSchemas.kinds());
        V016_FIELDS.forEach((kind, paths) -> {
            for (String path : paths) {
                assertThat(byKind.get(kind).stream().anyMatch(o -> present(o, path.split("\\.")))).as(kind + " " + path).isTrue();
            }
        });
    }

    @Test
    void shouldTakeWhatAGoProcessorOfKubeDiagWritesBack() {
        // v0.1.6's Go types write zero values and nulls: false booleans, empty strings, null times
        Map<String, Object> echoed = ApiSerialization.jsonObject("""
                {"apiVersion":"diagnosis.netease.com/v1","kind":"Abnormal",
                 "metadata":{"name":"kubernetes-event.shop.cart-7d9f.1","namespace":"kube-diagnoser","uid":"u1","creationTimestamp":null},
                 "spec":{"source":"KubernetesEvent","kubernetesEvent":{"metadata":{"name":"cart-7d9f.1","namespace":"shop",
                   "creationTimestamp":null},"involvedObject":{"kind":"Pod","name":"cart-7d9f"},"reason":"Unhealthy",
                   "source":{"component":"kubelet","host":"node-2"},"firstTimestamp":"2021-03-01T08:10:12Z","lastTimestamp":null,
                   "count":3,"eventTime":null,"reportingComponent":"","reportingInstance":""},
                   "nodeName":"node-2","assignedInformationCollectors":[{"namespace":"kube-diagnoser","name":"pod-collector"}]},
                 "status":{"identifiable":false,"recoverable":false,"phase":"InformationCollecting","startTime":"2021-03-01T08:12:43Z",
                   "conditions":[{"type":"InformationCollected","status":"True","lastTransitionTime":null}],"context":{}}}
                """);
        CrdSchemas.Admitted admitted = CrdSchemas.admit("Abnormal", echoed).orElseThrow();
        assertThat(admitted.pruned()).isEmpty();
        assertThat(admitted.invalid()).isEmpty();
    }

    @Test
    void shouldReportWhatTheApiServerWouldPruneOrRefuse() {
        Map<String, Object> v010 = ApiSerialization.jsonObject("""
                {"apiVersion":"diagnosis.netease.com/v1","kind":"InformationCollector","metadata":{"name":"c"},
                 "spec":{"ip":"10.0.0.1","port":"8080","metricPath":"/metrics","readinessProbe":{"periodSeconds":10}},
                 "status":{"ready":true}}
                """);
        CrdSchemas.Admitted admitted = CrdSchemas.admit("InformationCollector", v010).orElseThrow();
        assertThat(admitted.pruned()).containsExactly("spec.metricPath", "spec.readinessProbe");
        assertThat(admitted.invalid()).isEmpty();

        Map<String, Object> mistyped = ApiSerialization.jsonObject("""
                {"apiVersion":"diagnosis.netease.com/v1","kind":"AbnormalSource","metadata":{"name":"s"},
                 "spec":{"sourceTemplate":{"type":"KubernetesEvent","kubernetesEventTemplate":{"regexp":{"count":3}}}},
                 "status":{"lastAbnormal":"kubernetes-event.a.b"}}
                """);
        assertThat(CrdSchemas.admit("AbnormalSource", mistyped).orElseThrow().invalid()).containsExactly(
                "spec.sourceTemplate.kubernetesEventTemplate.regexp.count: must be a string, not the number 3",
                "status.lastAbnormal: must be an object, not the string \"kubernetes-event.a.b\"");
        assertThat(CrdSchemas.admit("Pod", Map.of())).isEmpty();
    }

    /** Whether the object has a non-null value at the path; {@code x[]} looks into every element of the list x. */
    private static boolean present(Object value, String[] path) {
        if (path.length == 0) {
            return value != null;
        }
        String step = path[0];
        boolean list = step.endsWith("[]");
        String key = list ? step.substring(0, step.length() - 2) : step;
        if (!(value instanceof Map<?, ?> map) || map.get(key) == null) {
            return false;
        }
        String[] rest = java.util.Arrays.copyOfRange(path, 1, path.length);
        if (!list) {
            return present(map.get(key), rest);
        }
        return map.get(key) instanceof List<?> elements && elements.stream().anyMatch(e -> present(e, rest));
    }
}
