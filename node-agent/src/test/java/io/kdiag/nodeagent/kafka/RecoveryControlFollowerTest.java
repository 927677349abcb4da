package io.kdiag.nodeagent.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.junit.jupiter.api.Test;

class RecoveryControlFollowerTest {
    @Test
    void shouldAskTheBrokerRarelyWhileTheTopicIsQuietUnlessTheUserSaysOtherwise() {
        Map<String, Object> kafka = Map.of("bootstrap.servers", "kafka:9092", ConsumerConfig.GROUP_ID_CONFIG, "someone's");

        assertThat(RecoveryControlFollower.properties(kafka, "node-a"))
                .containsEntry(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 5000)
                .containsEntry(ConsumerConfig.CLIENT_ID_CONFIG, "kdiag-recovery-control-node-a")
                .doesNotContainKey(ConsumerConfig.GROUP_ID_CONFIG);
        assertThat(RecoveryControlFollower.properties(Map.of(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100"), "node-a"))
                .containsEntry(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
    }
}
