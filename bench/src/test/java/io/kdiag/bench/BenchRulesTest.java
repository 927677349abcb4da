package io.kdiag.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BenchRulesTest {
    private final BenchRules rules = new BenchRules(RuleMatching.RULES);

    @Test
    void shouldMatchTheRuleOfTheEventsReasonAndNoOther() {
        assertThat(rules.firstMatch(BenchRules.event(50, "node-1"))).isEqualTo("kube-diagnoser/rule-050");
        assertThat(rules.firstMatch(BenchRules.event(150, "node-1"))).isNull();
    }

    @Test
    void shouldBuildTheRequestTheBridgeWouldForward() {
        assertThat(rules.request(BenchRules.event(7, "node-1"))).startsWith("kubernetes-event.default.pod-7");
        assertThat(rules.request(BenchRules.event(107, "node-1"))).isNull();
    }
}
