package io.kdiag.sourcebridge.rules;

import static io.kdiag.sourcebridge.Samples.BACK_OFF;
import static io.kdiag.sourcebridge.Samples.EVICTED;
import static io.kdiag.sourcebridge.Samples.FAILED_MOUNT;
import static io.kdiag.sourcebridge.Samples.OOM_KILLING;
import static io.kdiag.sourcebridge.Samples.UNHEALTHY;
import static io.kdiag.sourcebridge.Samples.eventRule;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.PrometheusAlert;
import org.junit.jupiter.api.Test;

class SourceRuleTest {
    static SourceRule compile(Map<String, Object> spec, Map<String, String> annotations) throws Exception {
        return SourceRule.compile("kube-diagnoser", "rule", spec, annotations, ZoneOffset.UTC);
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
                .hasMessage("spec.sourceTemplate.kubernetesEventTemplate.regexp.reason is not a valid RE2 regular expression: "
                        + "error parsing regexp: missing closing ): `Back(Off`");
        assertThatThrownBy(() -> compile(eventRule("{\"firstSeen\": \"2024\"}"), null))
                .hasMessageStartingWith("unknown field 'spec.sourceTemplate.kubernetesEventTemplate.regexp.firstSeen'");
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
    void shouldApplyTheFirstMatchingRuleInNamespaceNameOrder() throws Exception {
        RuleBook book = new RuleBook(null, ZoneOffset.UTC);
        for (String name : List.of("b-rule", "a-rule")) {
            book.update(new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder().withNewMetadata()
                    .withNamespace("ops").withName(name).endMetadata()
                    .addToAdditionalProperties("spec", eventRule("{\"type\": \"Warning\"}")).build());
        }
        book.update(new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder().withNewMetadata()
                .withNamespace("ops").withName("0-broken").endMetadata()
                .addToAdditionalProperties("spec", eventRule("{\"type\": \"(\"}")).build());

        assertThat(book.size()).isEqualTo(2);
        assertThat(book.firstMatching(EVICTED)).get().extracting(SourceRule::key).isEqualTo("ops/a-rule");
    }
}
