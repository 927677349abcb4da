package io.kdiag.sourcebridge.request;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.HashMap;
import java.util.Map;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.sourcebridge.Samples;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RequestValidatorTest {
    private final RequestValidator validator = new RequestValidator();

    @Test
    void shouldFillTheNodeAndTheDefaultSourceIntoTheSpec() throws Refusal {
        AbnormalRequest valid = validator.validate(request("node-1", "{\"skipRecovery\": true}"));

        AbnormalSpec spec = ApiSerialization.spec(valid.getSpec());
        assertThat(spec.nodeName).isEqualTo("node-1");
        assertThat(spec.source).isEqualTo("Custom");
        assertThat(spec.skipRecovery).isTrue();
        assertThat(valid.getNodeName()).isEqualTo("node-1");
        assertThat(valid.getOrigin()).isEqualTo(Origin.IngestTopic);
    }

    @Test
    void shouldAcceptTheSeedAbnormal() throws Refusal {
        AbnormalRequest decoded = new IngestDecoder().decode(new IngestDecoder.Position("t", 0, 0, 0), null,
                Samples.SEED_MANIFEST_JSON.getBytes(java.nio.charset.StandardCharsets.UTF_8));

        AbnormalSpec spec = ApiSerialization.spec(validator.validate(decoded).getSpec());

        assertThat(spec.assignedDiagnosers).extracting(n -> n.name).containsExactly("pod-disk-usage-diagnoser");
        assertThat(spec.source).isEqualTo("Custom");
    }

    @Test
    void shouldAcceptEveryPartOfARichSpec() throws Refusal {
        String spec = """
                {"source": "PrometheusAlert", "prometheusAlert": {"labels": {"alertname": "DiskFull"}},
                 "assignedRecoverers": [{"namespace": "kube-diagnoser", "name": "signal-recoverer"}],
                 "commandExecutors": [{"command": ["df", "-h"], "type": "InformationCollector", "timeoutSeconds": 5}],
                 "profilers": [{"name": "cpu", "type": "Diagnoser", "java": {"type": "CPU", "pid": 42}},
                               {"name": "heap", "type": "Diagnoser", "go": {"source": "http://127.0.0.1:6060"}}],
                 "context": {"signalRecovery": {"pid": 42, "signal": 15}}}""";

        AbnormalSpec valid = ApiSerialization.spec(validator.validate(request("node-1", spec)).getSpec());

        assertThat(valid.profilers).hasSize(2);
        assertThat(valid.context).containsKey("signalRecovery");
    }

    @Test
    void shouldRefuseAPodReferenceWithoutNodeSayingWhy() {
        Refusal refusal = refusal(request("", "{\"podReference\": {\"namespace\": \"default\", \"name\": \"web-0\"}}"));

        assertThat(refusal.kind()).isEqualTo(Refusal.Kind.NO_NODE);
        assertThat(refusal.getMessage()).contains("podReference alone cannot be resolved").contains("without a Kubernetes cluster");
    }

    @Test
    void shouldRefuseAMissingNode() {
        assertThat(refusal(request("", "{}"))).hasMessageStartingWith("nodeName is required (top level or spec.nodeName)");
    }

    @Test
    void shouldRefuseANodeTheSpecContradicts() {
        assertThat(refusal(request("node-1", "{\"nodeName\": \"node-2\"}")))
                .hasMessage("nodeName 'node-1' and spec.nodeName 'node-2' disagree");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Disk_Full", "-disk", "disk-", "disk..full", "DISK", "disk full", "a/b"})
    void shouldRefuseANameThatIsNoDnsSubdomain(String name) {
        Refusal refusal = refusal(AbnormalRequest.newBuilder(request("node-1", "{}")).setName(name).build());

        assertThat(refusal.kind()).isEqualTo(Refusal.Kind.BAD_NAME);
        assertThat(refusal).hasMessageStartingWith("name '" + name + "' must be a DNS-1123 subdomain");
    }

    @Test
    void shouldRefuseANameLongerThan253() {
        String name = "a".repeat(254);

        assertThat(refusal(AbnormalRequest.newBuilder(request("node-1", "{}")).setName(name).build()))
                .hasMessageContaining("must be a DNS-1123 subdomain: at most 253");
    }

    @Test
    void shouldAcceptANameOf253WithDots() throws Refusal {
        String name = ("a".repeat(62) + ".").repeat(4) + "b";

        assertThat(validator.validate(AbnormalRequest.newBuilder(request("node-1", "{}")).setName(name).build()).getName())
                .hasSize(253);
    }

    @ParameterizedTest
    @ValueSource(strings = {"kube.system", "Ops", "ops_1"})
    void shouldRefuseANamespaceThatIsNoDnsLabel(String namespace) {
        assertThat(refusal(AbnormalRequest.newBuilder(request("node-1", "{}")).setNamespace(namespace).build()))
                .hasMessageStartingWith("namespace '" + namespace + "' must be a DNS-1123 label");
    }

    @Test
    void shouldRefuseANodeNameThatIsNoDnsSubdomain() {
        assertThat(refusal(request("Node_1", "{}"))).hasMessageStartingWith("nodeName 'Node_1' must be a DNS-1123 subdomain");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-x", "a b", "a/b", "ü"})
    void shouldRefuseAStrangeUid(String uid) {
        assertThat(refusal(AbnormalRequest.newBuilder(request("node-1", "{}")).setUid(uid).build()))
                .hasMessageStartingWith("uid '" + uid + "' must be 1 to 128 letters");
    }

    @Test
    void shouldRefuseBadLabels() {
        assertThat(refusal(withLabels(Map.of("bad key", "v")))).hasMessageStartingWith("label key 'bad key' is not a Kubernetes label key");
        assertThat(refusal(withLabels(Map.of("Example.com/x", "v")))).hasMessageStartingWith("label key 'Example.com/x'");
        assertThat(refusal(withLabels(Map.of("team", "s r e")))).hasMessageStartingWith("label 'team' has value 's r e'");
        Map<String, String> many = new HashMap<>();
        for (int i = 0; i < 65; i++) {
            many.put("l" + i, "v");
        }
        assertThat(refusal(withLabels(many))).hasMessage("labels has 65 entries; at most 64 are accepted");
    }

    @Test
    void shouldAcceptPrefixedAndEmptyLabels() throws Refusal {
        assertThat(validator.validate(withLabels(Map.of("kdiag.io/team", "", "app", "web-1.2_a"))).getLabels()).hasSize(2);
    }

    @Test
    void shouldRefuseASpecOverTheSizeCap() {
        String spec = "{\"context\": {\"blob\": \"" + "x".repeat(RequestValidator.MAX_SPEC_BYTES) + "\"}}";

        Refusal refusal = refusal(request("node-1", spec));

        assertThat(refusal.kind()).isEqualTo(Refusal.Kind.TOO_LARGE);
        assertThat(refusal.getMessage()).endsWith("at most 524288 (512 KiB) are accepted");
    }

    @Test
    void shouldAcceptASpecJustUnderTheSizeCap() throws Refusal {
        String prefix = "{\"context\": {\"blob\": \"";
        String suffix = "\"}}";
        String spec = prefix + "x".repeat(RequestValidator.MAX_SPEC_BYTES - prefix.length() - suffix.length()) + suffix;

        assertThat(validator.validate(request("node-1", spec)).getNodeName()).isEqualTo("node-1");
    }

    @Test
    void shouldRefuseASpecThatDoesNotParse() {
        Refusal refusal = refusal(request("node-1", "{\"assignedDiagnosers\": \"all\"}"));

        assertThat(refusal.kind()).isEqualTo(Refusal.Kind.BAD_SPEC);
        assertThat(refusal).hasMessageStartingWith("spec is not a valid Abnormal spec: ");
    }

    @Test
    void shouldRefuseAnUnknownSource() {
        assertThat(refusal(request("node-1", "{\"source\": \"Probe\"}")))
                .hasMessage("spec.source 'Probe' must be one of Custom, KubernetesEvent, PrometheusAlert, Log");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "assignedInformationCollectors|[{\"name\": \"pod-collector\"}]",
        "assignedDiagnosers|[{\"namespace\": \"kube-diagnoser\", \"name\": \"ok\"}, {\"namespace\": \"kube-diagnoser\"}]",
        "assignedRecoverers|[{\"namespace\": \" \", \"name\": \"signal-recoverer\"}]",
        "assignedRecoverers|[null]"})
    void shouldRefuseAProcessorReferenceWithoutNamespaceOrName(String field, String references) {
        Refusal refusal = refusal(request("node-1", "{\"" + field + "\": " + references + "}"));

        assertThat(refusal.kind()).isEqualTo(Refusal.Kind.BAD_SPEC);
        assertThat(refusal.getMessage()).startsWith("spec." + field + "[").endsWith("] needs both a namespace and a name");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"type\": \"Diagnoser\"}|spec.commandExecutors[0].command must be a non-empty list of strings",
        "{\"command\": [], \"type\": \"Diagnoser\"}|spec.commandExecutors[0].command must be a non-empty list of strings",
        "{\"command\": [\"\"], \"type\": \"Diagnoser\"}|spec.commandExecutors[0].command must be a non-empty list of strings",
        "{\"command\": [\"ls\"]}|spec.commandExecutors[0].type (none) must be one of InformationCollector, Diagnoser, Recoverer",
        "{\"command\": [\"ls\"], \"type\": \"Root\"}|spec.commandExecutors[0].type 'Root' must be one of",
        "{\"command\": [\"ls\"], \"type\": \"Diagnoser\", \"timeoutSeconds\": 0}|spec.commandExecutors[0].timeoutSeconds must be positive, not 0",
        "null|spec.commandExecutors[0] must be an object with command and type"})
    void shouldRefuseABadCommandExecutor(String executor, String reason) {
        Refusal refusal = refusal(request("node-1", "{\"commandExecutors\": [" + executor + "]}"));

        assertThat(refusal.kind()).isEqualTo(Refusal.Kind.BAD_SPEC);
        assertThat(refusal.getMessage()).startsWith(reason);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"type\": \"Diagnoser\", \"go\": {}}|spec.profilers[0].name is required",
        "{\"name\": \"p\", \"go\": {}}|spec.profilers[0].type (none) must be one of",
        "{\"name\": \"p\", \"type\": \"Profiler\", \"go\": {}}|spec.profilers[0].type 'Profiler' must be one of",
        "{\"name\": \"p\", \"type\": \"Diagnoser\"}|spec.profilers[0] must set exactly one of go, java, python (it sets 0)",
        "{\"name\": \"p\", \"type\": \"Diagnoser\", \"go\": {}, \"java\": {}}|spec.profilers[0] must set exactly one of go, java, python (it sets 2)",
        "{\"name\": \"p\", \"type\": \"Diagnoser\", \"go\": {}, \"timeoutSeconds\": -1}|spec.profilers[0].timeoutSeconds must be positive",
        "{\"name\": \"p\", \"type\": \"Diagnoser\", \"go\": {}, \"expirationSeconds\": 0}|spec.profilers[0].expirationSeconds must be positive",
        "null|spec.profilers[0] must be an object"})
    void shouldRefuseABadProfiler(String profiler, String reason) {
        assertThat(refusal(request("node-1", "{\"profilers\": [" + profiler + "]}"))).hasMessageStartingWith(reason);
    }

    @Test
    void shouldRefuseProfilersWithTheSameName() {
        String spec = """
                {"profilers": [{"name": "cpu", "type": "Diagnoser", "go": {}}, {"name": "cpu", "type": "Recoverer", "python": {"pid": 1}}]}""";

        assertThat(refusal(request("node-1", spec)))
                .hasMessage("spec.profilers[1].name 'cpu' is used by another profiler; names must be unique");
    }

    private static AbnormalRequest request(String nodeName, String spec) {
        return AbnormalRequest.newBuilder(Samples.avroRequest(nodeName, Origin.IngestTopic)).setSpec(spec).setLabels(Map.of()).build();
    }

    private static AbnormalRequest withLabels(Map<String, String> labels) {
        return AbnormalRequest.newBuilder(request("node-1", "{}")).setLabels(labels).build();
    }

    private Refusal refusal(AbnormalRequest request) {
        Refusal refusal = catchThrowableOfType(Refusal.class, () -> validator.validate(request));
        assertThat(refusal).as("refused").isNotNull();
        return refusal;
    }
}
