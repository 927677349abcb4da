package io.kdiag.nodeagent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

class NodeAgentTest {
    private static final Map<String, Object> KAFKA = Map.of("bootstrap.servers", "kafka:9092");

    @Test
    void shouldSendEventsWithoutLingerUnlessTheUserSetsOne() {
        assertThat(NodeAgent.producerProperties(KAFKA, "node-a"))
                .containsEntry(ProducerConfig.LINGER_MS_CONFIG, 0)
                .containsEntry(ProducerConfig.ACKS_CONFIG, "all")
                .containsEntry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true)
                .containsEntry(ProducerConfig.CLIENT_ID_CONFIG, "kdiag-node-agent-node-a");
        assertThat(NodeAgent.producerProperties(Map.of("bootstrap.servers", "kafka:9092", ProducerConfig.LINGER_MS_CONFIG, "20"), "node-a"))
                .containsEntry(ProducerConfig.LINGER_MS_CONFIG, "20");
    }

    @Test
    void shouldLetAnIdleFetchWaitLongUnlessTheUserSetsAWait() {
        assertThat(NodeAgent.consumerProperties(KAFKA, "node-a"))
                .containsEntry(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 5000)
                .containsEntry(ConsumerConfig.GROUP_ID_CONFIG, "kdiag-node-agent-node-a")
                .containsEntry(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false)
                .containsEntry(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Map<String, Object> userWait = Map.of("bootstrap.servers", "kafka:9092", ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
        assertThat(NodeAgent.consumerProperties(userWait, "node-a"))
                .containsEntry(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
    }
}
