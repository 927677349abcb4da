package io.kdiag.nodeagent.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.nodeagent.Fixtures;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageStarted;
import io.kdiag.testkit.TestKafka;
import org.apache.kafka.clients.consumer.ConsumerRecord;
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
    void shouldSendBatchedEventsAtOnceWhenTheAgentWaitsForThemAndCountEachAcknowledgement() throws Exception {
        // a linger far longer than the test: only sendBatched can get the events acknowledged in time
        Map<String, Object> settings = Map.of("bootstrap.servers", kafka.bootstrapServers(), ProducerConfig.LINGER_MS_CONFIG, 600_000);
        AtomicInteger acknowledged = new AtomicInteger();
        try (AgentProducer producer = AgentProducer.create(settings, "node-a", TOPICS, acknowledged::incrementAndGet)) {
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
            // the agent's loop counts these as progress
            assertThat(acknowledged).hasValue(3);
        }
    }

    @Test
    void shouldWriteADeadLetterAtOnceWhateverTheLinger() throws Exception {
        // far longer than deadLetter waits: it reports the letter written only if it sends without waiting out the linger
        Map<String, Object> settings = Map.of("bootstrap.servers", kafka.bootstrapServers(), ProducerConfig.LINGER_MS_CONFIG, 600_000);
        ConsumerRecord<byte[], byte[]> unreadable = new ConsumerRecord<>(TOPICS.abnormals().name(), 0, 42, "node-a".getBytes(),
                "not an abnormal".getBytes());
        try (AgentProducer producer = AgentProducer.create(settings, "node-a", TOPICS, () -> { })) {
            assertThat(producer.deadLetter(unreadable, "unreadable")).isTrue();
        }

        assertThat(Fixtures.readAll(kafka.bootstrapServers(), TOPICS.deadLetters().name())).extracting(r -> new String(r.value()))
                .contains("not an abnormal");
    }

    private static DiagnosisEvent event(long seq) {
        return DiagnosisEvent.newBuilder().setAbnormalUid("uid-1").setSeq(seq).setNodeName("node-a").setTime(Instant.now())
                .setPayload(new StageStarted(Stage.InformationCollection)).build();
    }
}
