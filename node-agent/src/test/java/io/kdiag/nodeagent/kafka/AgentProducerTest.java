package io.kdiag.nodeagent.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

class AgentProducerTest {
    private static final Map<String, Object> KAFKA = Map.of("bootstrap.servers", "kafka:9092");

    @Test
    void shouldBatchEventsForAFewMillisecondsUnlessTheUserSetsALinger() {
        assertThat(AgentProducer.properties(KAFKA, "node-a"))
                .containsEntry(ProducerConfig.LINGER_MS_CONFIG, 5)
                .containsEntry(ProducerConfig.ACKS_CONFIG, "all")
                .containsEntry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true)
                .containsEntry(ProducerConfig.CLIENT_ID_CONFIG, "kdiag-node-agent-node-a");
        assertThat(AgentProducer.properties(Map.of("bootstrap.servers", "kafka:9092", ProducerConfig.LINGER_MS_CONFIG, "20"), "node-a"))
                .containsEntry(ProducerConfig.LINGER_MS_CONFIG, "20");
    }
}
