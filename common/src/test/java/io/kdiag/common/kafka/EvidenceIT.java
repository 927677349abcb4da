package io.kdiag.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import io.kdiag.schemas.Evidence;
import io.kdiag.schemas.Topics;
import io.kdiag.testkit.TestKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Evidence on a real broker: written in chunks, read back from its offsets, and a clear error once retention took it. */
class EvidenceIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static TestKafka kafka;
    private static Map<String, Object> settings;
    private static Topics topics;

    @BeforeAll
    static void start() {
        kafka = TestKafka.start();
        settings = Map.of("bootstrap.servers", kafka.bootstrapServers());
        topics = new Topics("evidence-it.");
        TopicAdmin.ensureTopics(settings, topics, 3, (short) 1);
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    private static KafkaConsumer<byte[], byte[]> consumer() {
        Map<String, Object> props = new HashMap<>(settings);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @Test
    void shouldReadBackAMultiChunkValueAndSayWhenRetentionTookIt() throws Exception {
        byte[] value = new byte[3 * Evidence.CHUNK_BYTES + 123];
        new Random(7).nextBytes(value);
        String topic = topics.evidence().name();
        Evidence.Reference reference;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(settings, new ByteArraySerializer(), new ByteArraySerializer())) {
            Evidence.write(producer, topic, "something else".getBytes(), "text/plain", TIMEOUT);
            reference = Evidence.write(producer, topic, value, "application/octet-stream", TIMEOUT);
        }

        assertThat(reference.offsets()).hasSize(4);
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            assertThat(Evidence.readAll(consumer, topic, reference, TIMEOUT)).isEqualTo(value);
        }

        TopicPartition partition = new TopicPartition(topic, reference.partition());
        try (Admin admin = Admin.create(settings)) {
            admin.deleteRecords(Map.of(partition, RecordsToDelete.beforeOffset(reference.offsets().get(1)))).all().get(30, TimeUnit.SECONDS);
        }
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            assertThatThrownBy(() -> Evidence.readAll(consumer, topic, reference, TIMEOUT))
                    .isInstanceOf(IOException.class).hasMessageContaining("is gone: past the retention of " + topic);
        }
    }

    @Test
    void shouldWriteAtOnceWhateverLingerTheProducerHas() throws Exception {
        Map<String, Object> lingering = new HashMap<>(settings);
        // far longer than the write may take: it returns only if it sends without waiting out the linger
        lingering.put(ProducerConfig.LINGER_MS_CONFIG, 600_000);
        byte[] value = "a lingering producer's evidence".getBytes();
        String topic = topics.evidence().name();
        Evidence.Reference reference;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(lingering, new ByteArraySerializer(), new ByteArraySerializer())) {
            reference = Evidence.write(producer, topic, value, "text/plain", TIMEOUT);
        }

        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            assertThat(Evidence.readAll(consumer, topic, reference, TIMEOUT)).isEqualTo(value);
        }
    }
}
