package io.kdiag.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

class EvidenceRetentionTest {
    private static final Map<String, String> EVENTS = Map.of("cleanup.policy", "delete", "retention.ms", "2592000000");

    private static java.util.List<String> problems(Map<String, String> events, Map<String, String> evidence) {
        return EvidenceRetention.problems("kdiag.diagnosis-events", events, "kdiag.evidence", evidence);
    }

    @Test
    void shouldAcceptEvidenceKeptAtLeastAsLongAsTheEvents() {
        assertThat(problems(EVENTS, EVENTS)).isEmpty();
        assertThat(problems(EVENTS, Map.of("retention.ms", "-1", "retention.bytes", "-1"))).isEmpty();
        assertThat(problems(Map.of("retention.ms", "-1"), Map.of("retention.ms", "-1"))).isEmpty();
        // Kafka's default for both: 7 days each
        assertThat(problems(Map.of(), Map.of())).isEmpty();
    }

    @Test
    void shouldNameEverySettingThatLosesEvidenceBeforeItsEvents() {
        assertThat(problems(EVENTS, Map.of("retention.ms", "3600000"))).containsExactly(
                "kdiag.evidence has retention.ms=3600000, shorter than the 2592000000 of kdiag.diagnosis-events: events would refer to "
                        + "evidence that is gone");
        assertThat(problems(Map.of("retention.ms", "-1"), EVENTS)).singleElement().asString()
                .contains("retention.ms=2592000000, shorter than the unlimited (-1) of kdiag.diagnosis-events");
        assertThat(problems(EVENTS, Map.of("cleanup.policy", "compact,delete", "retention.ms", "-1"))).singleElement().asString()
                .contains("cleanup.policy=compact,delete, not delete");
        assertThat(problems(EVENTS, Map.of("retention.ms", "-1", "retention.bytes", "1073741824"))).singleElement().asString()
                .contains("retention.bytes=1073741824");
        // the events topic's default (7 days) is longer than an hour
        assertThat(problems(Map.of(), Map.of("retention.ms", "3600000"))).hasSize(1);
    }
}
