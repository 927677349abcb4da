package io.kdiag.sourcebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.PrometheusAlert;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class SourceRuleTest {

    /** Real kubelet / node-problem-detector event shapes. */
    static Event event(String name, String reason, String type, String message, String kind, String object, String component,
            String host) {
        return new EventBuilder().withNewMetadata().withNamespace("default").withName(name).withUid("uid-" + name).endMetadata()
                .withReason(reason).withType(type).withMessage(message).withCount(1)
                .withNewInvolvedObject().withKind(kind).withNamespace("Node".equals(kind) ? null : "default").withName(object)
                .withApiVersion("v1").endInvolvedObject()
                .withNewSource().withComponent(component).withHost(host).endSource().build();
    }

    static final Event UNHEALTHY = event("web-0.17a2b", "Unhealthy", "Warning",
            "Readiness probe failed: Get \"http://10.244.1.5:8080/healthz\": dial tcp 10.244.1.5:8080: connect: connection refused",
            "Pod", "web-0", "kubelet", "node-1");
    static final Event BACK_OFF = event("web-1.17a2c", "BackOff", "Warning", "Back-off restarting failed container app in pod web-1_default(1f0c)",
            "Pod", "web-1", "kubelet", "node-2");
    static final Event FAILED_MOUNT = event("db-0.17a2d", "FailedMount", "Warning",
            "MountVolume.SetUp failed for volume \"data\" : secret \"db-tls\" not found", "Pod", "db-0", "kubelet", "node-1");
    static final Event EVICTED = event("batch-7.17a2e", "Evicted", "Warning",
            "The node was low on resource: memory. Threshold quantity: 100Mi, available: 92160Ki.", "Pod", "batch-7", "kubelet", "node-3");
    static final Event OOM_KILLING = event("node-1.17a2f", "OOMKilling", "Warning",
            "Memory cgroup out of memory: Killed process 4242 (java) total-vm:4862012kB, anon-rss:3045672kB, file-rss:0kB, shmem-rss:0kB",
            "Node", "node-1", "kernel-monitor", "node-1");

    static Map<String, Object> eventRule(String regexp) {
        return ApiSerialization.jsonObject("""
                {"sourceTemplate": {"type": "KubernetesEvent", "kubernetesEventTemplate": {"regexp": %s}},
                 "assignedDiagnosers": [{"namespace": "kube-diagnoser", "name": "pod-disk-usage-diagnoser"}],
                 "context": {"team": "sre"}}""".formatted(regexp));
    }

    static SourceRule compile(Map<String, Object> spec, Map<String, String> annotations) throws Exception {
        return SourceRule.compile("kube-diagnoser", "rule", spec, annotations);
    }

    @Test
    void shouldMatchTheOriginalsUnhealthySampleOnlyOnUnhealthyKubeletWarnings() throws Exception {
        // config/samples unhealthy-source of the original
        SourceRule rule = compile(eventRule("{\"reason\": \"Unhealthy\", \"type\": \"Warning\", \"source\": {\"component\": \"kubelet\"}}"), null);

        assertThat(List.of(UNHEALTHY, BACK_OFF, FAILED_MOUNT, EVICTED, OOM_KILLING)).filteredOn(rule::matches).containsExactly(UNHEALTHY);
    }

    @Test
    void shouldMatchEachRealEventByItsReasonAndMessage() throws Exception {
        assertThat(compile(eventRule("{\"reason\": \"BackOff\", \"message\": \"restarting failed container\"}"), null).matches(BACK_OFF)).isTrue();
        assertThat(compile(eventRule("{\"reason\": \"FailedMount\", \"message\": \"secret .* not found\"}"), null).matches(FAILED_MOUNT)).isTrue();
        assertThat(compile(eventRule("{\"reason\": \"Evicted\", \"involvedObject\": {\"kind\": \"Pod\"}}"), null).matches(EVICTED)).isTrue();
        assertThat(compile(eventRule("{\"reason\": \"OOMKilling\", \"source\": {\"component\": \"kernel-monitor\"}, "
                + "\"involvedObject\": {\"kind\": \"Node\"}}"), null).matches(OOM_KILLING)).isTrue();
        assertThat(compile(eventRule("{\"reason\": \"OOMKilling\"}"), null).matches(EVICTED)).isFalse();
    }

    @Test
    void shouldTreatAnEmptyPatternAsMatchAnythingAndPatternsAsUnanchored() throws Exception {
        assertThat(compile(eventRule("{\"reason\": \"\", \"message\": \"\"}"), null).matches(EVICTED)).isTrue();
        assertThat(compile(eventRule("{\"reason\": \"Kill\"}"), null).matches(OOM_KILLING)).isTrue();
    }

    @Test
    void shouldMatchWholeFieldsInAnchoredMode() throws Exception {
        Map<String, String> anchored = Map.of(SourceRule.MATCH_MODE, "anchored");

        assertThat(compile(eventRule("{\"reason\": \"Kill\"}"), anchored).matches(OOM_KILLING)).isFalse();
        assertThat(compile(eventRule("{\"reason\": \"OOMKill(ing)?\"}"), anchored).matches(OOM_KILLING)).isTrue();
        assertThat(compile(eventRule("{\"reason\": \"\"}"), anchored).matches(OOM_KILLING)).isTrue();
        assertThatThrownBy(() -> compile(eventRule("{}"), Map.of(SourceRule.MATCH_MODE, "exactly")))
                .hasMessage("annotation kdiag.io/match-mode must be anchored or unanchored, not 'exactly'");
    }

    @Test
    void shouldMatchAlertsLikeTheOriginalPodNotReadySample() throws Exception {
        SourceRule rule = compile(ApiSerialization.jsonObject("""
                {"sourceTemplate": {"type": "PrometheusAlert", "prometheusAlertTemplate": {
                   "regexp": {"alertName": "KubePodNotReady", "labels": {"severity": "critical"}}, "nodeNameReferenceLabel": "node"}}}"""), null);
        PrometheusAlert alert = new PrometheusAlert();
        alert.labels = Map.of("alertname", "KubePodNotReady", "severity", "critical", "node", "node-1");
        PrometheusAlert withoutSeverity = new PrometheusAlert();
        withoutSeverity.labels = Map.of("alertname", "KubePodNotReady");

        assertThat(rule.matches(alert)).isTrue();
        assertThat(rule.matches(withoutSeverity)).as("a missing label does not match").isFalse();
        assertThat(rule.nodeNameReferenceLabel()).isEqualTo("node");
    }

    @Test
    void shouldRefuseRulesThatCannotBeUsedWithAReasonNamingThePlace() {
        assertThatThrownBy(() -> compile(eventRule("{\"reason\": \"Back(Off\"}"), null))
                .hasMessageStartingWith("spec.sourceTemplate.kubernetesEventTemplate.regexp.reason is not a valid regular expression: ");
        assertThatThrownBy(() -> compile(eventRule("{\"firstTimestamp\": \"2024\"}"), null))
                .hasMessageStartingWith("unknown field 'spec.sourceTemplate.kubernetesEventTemplate.regexp.firstTimestamp'");
        assertThatThrownBy(() -> compile(eventRule("{\"involvedObject\": {\"kind\": 3}}"), null))
                .hasMessage("spec.sourceTemplate.kubernetesEventTemplate.regexp.involvedObject.kind must be a string, not a number");
        assertThatThrownBy(() -> compile(ApiSerialization.jsonObject("{\"sourceTemplate\": {\"type\": \"Probe\"}}"), null))
                .hasMessage("spec.sourceTemplate.type must be KubernetesEvent or PrometheusAlert, not 'Probe'");
        assertThatThrownBy(() -> compile(ApiSerialization.jsonObject("""
                {"sourceTemplate": {"type": "KubernetesEvent", "kubernetesEventTemplate": {}},
                 "commandExecutors": [{"command": ["df"], "type": "Collector"}]}"""), null))
                .hasMessageContaining("the abnormal this rule would start is invalid: spec.commandExecutors[0].type 'Collector'");
    }

    @Test
    void shouldBuildTheOriginalsEventAbnormalOnTheEventsNode() throws Exception {
        RuleBook book = new RuleBook(null);
        book.update(new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder().withNewMetadata()
                .withNamespace("kube-diagnoser").withName("unhealthy-source").endMetadata()
                .addToAdditionalProperties("spec", eventRule("{\"reason\": \"Unhealthy\"}")).build());
        EventSource source = new EventSource(null, null, book, "kube-diagnoser", Runnable::run, new SimpleMeterRegistry());

        RuleMatch match = source.match(UNHEALTHY, book, "kube-diagnoser", (ns, name) -> null).orElseThrow();

        AbnormalRequest request = match.submission().request();
        assertThat(request.getName()).isEqualTo("kubernetes-event.default.web-0.17a2b");
        assertThat(request.getNamespace()).isEqualTo("kube-diagnoser");
        assertThat(request.getNodeName()).isEqualTo("node-1");
        assertThat(request.getOrigin()).isEqualTo(Origin.KubernetesEvent);
        AbnormalSpec spec = ApiSerialization.spec(request.getSpec());
        assertThat(spec.source).isEqualTo("KubernetesEvent");
        assertThat(spec.kubernetesEvent.getReason()).isEqualTo("Unhealthy");
        assertThat(spec.podReference.name).isEqualTo("web-0");
        assertThat(spec.assignedDiagnosers).extracting(n -> n.name).containsExactly("pod-disk-usage-diagnoser");
        assertThat(spec.context).containsEntry("team", "sre");
        assertThat(match.submission().repeatKey()).isEqualTo("event/default/web-0.17a2b");
    }

    @Test
    void shouldTakeTheNodeFromTheInvolvedPodWhenTheEventHasNoHost() throws Exception {
        RuleBook book = new RuleBook(null);
        book.update(new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder().withNewMetadata()
                .withNamespace("kube-diagnoser").withName("backoff").endMetadata()
                .addToAdditionalProperties("spec", eventRule("{\"reason\": \"BackOff\"}")).build());
        EventSource source = new EventSource(null, null, book, "kube-diagnoser", Runnable::run, new SimpleMeterRegistry());
        Event noHost = new EventBuilder(BACK_OFF).editSource().withHost(null).endSource().build();

        assertThat(source.match(noHost, book, "kube-diagnoser", (ns, name) -> "web-1".equals(name) ? "node-7" : null))
                .get().extracting(m -> m.submission().request().getNodeName()).isEqualTo("node-7");
        assertThat(source.match(noHost, book, "kube-diagnoser", (ns, name) -> null)).isEmpty();
    }

    @Test
    void shouldApplyTheFirstMatchingRuleInNamespaceNameOrder() throws Exception {
        RuleBook book = new RuleBook(null);
        for (String name : List.of("b-rule", "a-rule")) {
            book.update(new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder().withNewMetadata()
                    .withNamespace("ops").withName(name).endMetadata()
                    .addToAdditionalProperties("spec", eventRule("{\"type\": \"Warning\"}")).build());
        }
        book.update(new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder().withNewMetadata()
                .withNamespace("ops").withName("0-broken").endMetadata()
                .addToAdditionalProperties("spec", eventRule("{\"type\": \"(\"}")).build());

        assertThat(book.size()).isEqualTo(2);
        assertThat(book.first(r -> r.matches(EVICTED))).get().extracting(SourceRule::key).isEqualTo("ops/a-rule");
    }
}
