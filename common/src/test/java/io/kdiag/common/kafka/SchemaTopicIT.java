package io.kdiag.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.kdiag.schemas.ReleasedSchemas;
import io.kdiag.schemas.SchemaTopicStore;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.UnknownPayload;
import io.kdiag.testkit.LaterVersion;
import io.kdiag.testkit.TestKafka;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The schemas topic as the components use it: writers publish once, readers of an older version find later schemas. */
class SchemaTopicIT {
    private static TestKafka kafka;
    private static Map<String, Object> settings;

    @BeforeAll
    static void start() {
        kafka = TestKafka.start();
        settings = Map.of("bootstrap.servers", kafka.bootstrapServers());
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    private static Topics topics(String prefix) {
        Topics topics = new Topics(prefix);
        TopicAdmin.ensureTopics(settings, topics, 1, (short) 1);
        return topics;
    }

    @Test
    void shouldPublishEachSchemaOnceHoweverOftenWritersStart() throws Exception {
        Topics topics = topics("once.");

        Topics.publishing("once.", settings);
        Topics.publishing("once.", settings);

        assertThat(endOffset(topics.schemas().name())).isEqualTo(ReleasedSchemas.get().all().size());
    }

    @Test
    void shouldReadARecordOfALaterVersionPublishedByItsWriter() throws Exception {
        topics("later.");
        new SchemaTopicStore(settings, "later.schemas").publish(List.of(LaterVersion.EVENT));
        byte[] verified = LaterVersion.verifiedEvent("u1", 7, "node-1", Instant.parse("2026-11-27T10:00:00Z"), true);

        DiagnosisEvent read = Topics.reading("later.", settings).diagnosisEvents().valueSerde().deserializer()
                .deserialize("later.diagnosis-events", verified);

        assertThat(read.getPayload()).isEqualTo(new UnknownPayload(LaterVersion.NEW_PAYLOAD, "{\"verified\": true}"));
        assertThatThrownBy(() -> new Topics("later.").diagnosisEvents().valueSerde().deserializer()
                .deserialize("later.diagnosis-events", verified))
                .isInstanceOf(SerializationException.class).hasMessageContaining("not a released DiagnosisEvent schema");
    }

    @Test
    void shouldPublishAtOnceWhateverLingerTheUserSet() {
        topics("lingering.");
        Map<String, Object> lingering = new HashMap<>(settings);
        // far longer than publish waits: it returns only if it sends without waiting out the linger
        lingering.put(ProducerConfig.LINGER_MS_CONFIG, 600_000);

        new SchemaTopicStore(lingering, "lingering.schemas").publish(List.of(LaterVersion.EVENT));

        assertThat(new SchemaTopicStore(settings, "lingering.schemas").findByFingerprint(SchemaNormalization.parsingFingerprint64(LaterVersion.EVENT)))
                .isEqualTo(LaterVersion.EVENT);
    }

    @Test
    void shouldIgnoreAnEntryWhoseKeyIsNotItsFingerprint() throws Exception {
        topics("forged.");
        Schema later = LaterVersion.EVENT;
        long fingerprint = SchemaNormalization.parsingFingerprint64(later);
        Schema forged = new Schema.Parser().parse(later.toString().replace("\"verified\"", "\"forged\""));
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(settings, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>("forged.schemas", SchemaTopicStore.key(fingerprint), forged.toString())).get(30, TimeUnit.SECONDS);
            producer.send(new ProducerRecord<>("forged.schemas", SchemaTopicStore.key(fingerprint), "not a schema")).get(30, TimeUnit.SECONDS);
        }

        assertThat(new SchemaTopicStore(settings, "forged.schemas").findByFingerprint(fingerprint)).isNull();
    }

    @Test
    void shouldReadTheTopicForAnUnknownFingerprintAtMostOncePerInterval() {
        topics("rare.");
        Schema later = LaterVersion.EVENT;
        long fingerprint = SchemaNormalization.parsingFingerprint64(later);
        SchemaTopicStore rarely = new SchemaTopicStore(settings, "rare.schemas", Duration.ofHours(1));
        SchemaTopicStore always = new SchemaTopicStore(settings, "rare.schemas", Duration.ZERO);
        assertThat(rarely.findByFingerprint(fingerprint)).isNull();
        assertThat(always.findByFingerprint(fingerprint)).isNull();

        new SchemaTopicStore(settings, "rare.schemas").publish(List.of(later));

        assertThat(rarely.findByFingerprint(fingerprint)).as("read again within the interval").isNull();
        assertThat(always.findByFingerprint(fingerprint)).isEqualTo(later);
    }

    @Test
    void shouldRefuseToPublishWithoutTheTopic() {
        assertThatThrownBy(() -> Topics.publishing("missing.", settings))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("missing.schemas does not exist");
    }

    private static long endOffset(String topic) throws Exception {
        try (Admin admin = Admin.create(settings)) {
            TopicPartition partition = new TopicPartition(topic, 0);
            return admin.listOffsets(Map.of(partition, OffsetSpec.latest()))
                    .partitionResult(partition).get(30, TimeUnit.SECONDS).offset();
        }
    }
}
