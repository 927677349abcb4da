package io.kdiag.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.testkit.RecordSizes;
import io.kdiag.testkit.TestKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Poison on the status topic, which only readers of statuses ({@code kdiag}, {@link KdiagClient}) consume: records of
 * every size at and around Kafka's limits that are no status, a record that is not Avro, a status cut short and a
 * tombstone, among real statuses — one as large as the topic takes. Each unreadable record is skipped with a warning
 * naming its topic, partition, offset and size, and counted; every status is read.
 */
class StatusTopicPoisonIT {
    private static final Topics TOPICS = new Topics("status-poison.");
    private static final String STATUS_TOPIC = TOPICS.abnormalStatus().name();
    private static final List<String> WARNINGS = new CopyOnWriteArrayList<>();

    static TestKafka kafka;
    static Map<String, Object> settings;
    static AbstractAppender warnings;

    @BeforeAll
    static void start() throws Exception {
        kafka = TestKafka.start();
        settings = Map.of("bootstrap.servers", kafka.bootstrapServers());
        try (Admin admin = Admin.create(settings)) {
            // one partition: the poison lies between the statuses of the same abnormal
            admin.createTopics(TOPICS.specs(1).stream()
                    .map(s -> new NewTopic(s.name(), 1, (short) 1).configs(s.config())).toList())
                    .all().get(30, TimeUnit.SECONDS);
        }
        RecordSizes.allowLargeRecords(kafka.bootstrapServers(), STATUS_TOPIC);
        warnings = new AbstractAppender("status-poison-warnings", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                if (event.getLevel().isMoreSpecificThan(Level.WARN)) {
                    WARNINGS.add(event.getMessage().getFormattedMessage());
                }
            }
        };
        warnings.start();
        ((Logger) LogManager.getLogger(KdiagClient.class)).addAppender(warnings);
    }

    @AfterAll
    static void stop() {
        if (warnings != null) {
            ((Logger) LogManager.getLogger(KdiagClient.class)).removeAppender(warnings);
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    private static AbnormalStatus status(String uid, Phase phase, String context) {
        Instant t = Instant.parse("2026-12-01T10:00:00Z");
        return AbnormalStatus.newBuilder().setUid(uid).setNamespace("default").setName(uid).setNodeName("node-1")
                .setOrigin(Origin.IngestTopic).setSpec("{}").setLastSeq(phase == Phase.Succeeded ? 7 : 0).setUpdatedAt(t)
                .setStartTime(t).setPhase(phase).setContext(context).build();
    }

    @Test
    void shouldSkipAndCountEveryUnreadableStatusRecordWithAWarningAndReadTheRest() throws Exception {
        byte[] before = TOPICS.abnormalStatus().valueSerde().serializer().serialize(STATUS_TOPIC, status("uid-1", Phase.Diagnosing, "{}"));
        // a status as large as the topic takes: its context holds a long value
        String largeContext = "{\"processInformation\":\"" + "p".repeat(RecordSizes.TOPIC_LIMIT - 2048) + "\"}";
        AbnormalStatus large = status("uid-large", Phase.Succeeded, largeContext);
        List<byte[]> poison = new ArrayList<>();
        for (int size : RecordSizes.aroundEveryLimit()) {
            poison.add(RecordSizes.filled(size, 'x'));
        }
        poison.add("not avro".getBytes());
        poison.add(Arrays.copyOf(before, before.length / 2));
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(RecordSizes.largeRecordProducer(kafka.bootstrapServers()),
                new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(STATUS_TOPIC, "uid-1", before)).get();
            for (byte[] value : poison) {
                // the poison carries uid-1's key: its last status must stay the one that could be read
                producer.send(new ProducerRecord<>(STATUS_TOPIC, "uid-1", value)).get();
            }
            producer.send(new ProducerRecord<>(STATUS_TOPIC, "uid-gone", before)).get();
            producer.send(new ProducerRecord<>(STATUS_TOPIC, "uid-gone", null)).get();
            producer.send(new ProducerRecord<>(STATUS_TOPIC, "uid-large",
                    TOPICS.abnormalStatus().valueSerde().serializer().serialize(STATUS_TOPIC, large))).get();
            producer.send(new ProducerRecord<>(STATUS_TOPIC, "uid-2", TOPICS.abnormalStatus().valueSerde().serializer()
                    .serialize(STATUS_TOPIC, status("uid-2", Phase.Succeeded, "{}")))).get();
        }

        try (KdiagClient client = KdiagClient.builder().kafka(settings).topicPrefix("status-poison.").build()) {
            Map<String, AbnormalStatus> statuses = client.statuses();

            assertThat(statuses).containsOnlyKeys("uid-1", "uid-large", "uid-2");
            assertThat(statuses.get("uid-1").getPhase()).isEqualTo(Phase.Diagnosing);
            assertThat(statuses.get("uid-large").getContext()).isEqualTo(largeContext);
            assertThat(client.unreadableRecords()).isEqualTo(poison.size());
            assertThat(WARNINGS).hasSize(poison.size()).allMatch(w -> w.startsWith("unreadable record skipped topic=" + STATUS_TOPIC
                    + " partition=0 offset=") && w.contains(" bytes="));
            assertThat(WARNINGS).anyMatch(w -> w.contains(" bytes=" + (RecordSizes.TOPIC_LIMIT - 1024) + " "));

            // a reader that waits past the poison, and one that searches the whole topic
            assertThat(client.awaitFinalStatus("uid-2", Duration.ofSeconds(30))).hasValueSatisfying(
                    s -> assertThat(s.getPhase()).isEqualTo(Phase.Succeeded));
            assertThat(client.awaitStatus(s -> s.getName().equals("uid-2"), Duration.ofSeconds(30))).isPresent();
            assertThat(client.unreadableRecords()).isEqualTo(2L * poison.size());
        }
    }
}
