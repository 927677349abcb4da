package io.kdiag.nodeagent.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import io.kdiag.common.kafka.KafkaNames;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.junit.jupiter.api.Test;

class PartitionConsumerTest {
    private static final Map<String, Object> KAFKA = Map.of("bootstrap.servers", "kafka:9092");

    @Test
    void shouldLetAnIdleFetchWaitLongUnlessTheUserSetsAWait() {
        assertThat(PartitionConsumer.properties(KAFKA, new KafkaNames("kdiag."), "node-a"))
                .containsEntry(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 5000)
                .containsEntry(ConsumerConfig.GROUP_ID_CONFIG, "kdiag.node-agent-node-a")
                .containsEntry(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false)
                .containsEntry(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Map<String, Object> userWait = Map.of("bootstrap.servers", "kafka:9092", ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
        assertThat(PartitionConsumer.properties(userWait, new KafkaNames("kdiag."), "node-a"))
                .containsEntry(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
    }
}
