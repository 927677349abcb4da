package io.kdiag.nodeagent.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageStarted;
import io.kdiag.testkit.TestKafka;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AgentProducerIT {
    private static final Topics TOPICS = new Topics("kdiag.");
    private static TestKafka kafka;

    @BeforeAll
    static void startKafka() {
        kafka = TestKafka.start();
        TopicAdmin.ensureTopics(Map.of("bootstrap.servers", kafka.bootstrapServers()), TOPICS, 1, (short) 1);
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    @Test
    void shouldSendBatchedEventsAtOnceWhenTheAgentWaitsForThem() throws Exception {
        // a linger far longer than the test: only sendBatched can get the events acknowledged in time
        Map<String, Object> settings = Map.of("bootstrap.servers", kafka.bootstrapServers(), ProducerConfig.LINGER_MS_CONFIG, 600_000);
        try (AgentProducer producer = AgentProducer.create(settings, "node-a", TOPICS)) {
            CompletableFuture<Void> first = producer.send(event(1)); // also fetches the metadata
            producer.sendBatched();
            first.get(60, TimeUnit.SECONDS);
            CompletableFuture<Void> second = producer.send(event(2));
            CompletableFuture<Void> third = producer.send(event(3));
            Thread.sleep(500);
            assertThat(second).as("held back to batch").isNotDone();

            producer.sendBatched();

            assertThat(second).isCompleted();
            assertThat(third).isCompleted();
        }
    }

    private static DiagnosisEvent event(long seq) {
        return DiagnosisEvent.newBuilder().setAbnormalUid("uid-1").setSeq(seq).setNodeName("node-a").setTime(Instant.now())
                .setPayload(new StageStarted(Stage.InformationCollection)).build();
    }
}
