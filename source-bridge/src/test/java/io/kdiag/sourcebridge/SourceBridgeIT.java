package io.kdiag.sourcebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.KafkaNames;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.schemas.AvroSerde;
import io.kdiag.schemas.DeadLetterHeaders;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.signing.VerificationKeys;
import io.kdiag.sourcebridge.gate.BridgeMetrics;
import io.kdiag.testkit.TestKafka;
import io.kdiag.testkit.TestKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SourceBridgeIT {
    private static final int PARTITIONS = 12;
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static TestKafka kafka;

    @BeforeAll
    static void startKafka() {
        kafka = TestKafka.start();
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    @Test
    void shouldForwardValidRequestsByNodeAndDeadLetterTheRest() throws Exception {
        Topics topics = new Topics("kdiag.");
        TopicAdmin.ensureTopics(clientSettings(), topics, PARTITIONS, (short) 1);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        byte[] avro = AvroSerde.of(AbnormalRequest.class).encode(Samples.avroRequest("node-a", Origin.CustomResource));

        try (SourceBridge bridge = SourceBridge.start(config("kdiag."), clientSettings(), registry);
             Publisher publisher = new Publisher(topics.abnormalRequests().name())) {
            publisher.send("node-a", avro);
            publisher.send(null, bytes(Samples.jsonRequest("disk-full", "node-b")));
            publisher.send(null, bytes(Samples.SEED_MANIFEST_JSON));
            RecordMetadata garbage = publisher.send("k-1", bytes("hello"));
            RecordMetadata truncated = publisher.send("k-2", Arrays.copyOf(avro, 20));
            // neither the value nor the record key names a node
            RecordMetadata noNode = publisher.send(null, bytes("{\"name\": \"a\", \"spec\": {\"podReference\": {\"name\": \"web-0\"}}}"));
            RecordMetadata badName = publisher.send(null, bytes(Samples.jsonRequest("Disk_Full", "node-d")));
            publisher.send("node-c", bytes(Samples.jsonRequest("after-the-bad-ones", "node-c")));

            List<ConsumerRecord<byte[], byte[]>> forwarded = awaitCommitted(topics.abnormals().name(), PARTITIONS, 4);
            assertThat(forwarded).extracting(r -> key(r)).containsExactlyInAnyOrder("node-a", "node-b", "10.177.16.22", "node-c");
            for (ConsumerRecord<byte[], byte[]> record : forwarded) {
                AbnormalRequest request = AvroSerde.of(AbnormalRequest.class).decode(record.value());
                assertThat(record.partition()).as("partition of %s", key(record))
                        .isEqualTo(Utils.toPositive(Utils.murmur2(record.key())) % PARTITIONS)
                        .isEqualTo(Topics.partitionFor(request.getNodeName(), PARTITIONS));
                assertThat(request.getNodeName()).isEqualTo(key(record));
                assertThat(request.getOrigin()).isEqualTo(Origin.IngestTopic);
                // signed with the bridge's kdiag.signing-key, as agents require
                assertThat(VerificationKeys.read(List.of(TestKeys.verificationKeyFile())).check(record.key(), record.value(),
                        record.headers())).isEqualTo(VerificationKeys.Check.VERIFIED);
                AbnormalSpec spec = ApiSerialization.spec(request.getSpec());
                assertThat(spec.nodeName).isEqualTo(request.getNodeName());
            }

            List<ConsumerRecord<byte[], byte[]>> dead = awaitCommitted(topics.deadLetters().name(), 1, 4);
            assertDeadLetter(dead, garbage, "k-1", bytes("hello"), "neither Avro single-object encoding");
            assertDeadLetter(dead, truncated, "k-2", Arrays.copyOf(avro, 20), "the record ends too early");
            assertDeadLetter(dead, noNode, null, null, "podReference alone cannot be resolved");
            assertDeadLetter(dead, badName, null, bytes(Samples.jsonRequest("Disk_Full", "node-d")),
                    "name 'Disk_Full' must be a DNS-1123 subdomain");

            await().atMost(WAIT).untilAsserted(() -> {
                assertThat(registry.get(BridgeMetrics.INGEST_RECORDS).tag("result", "forwarded").counter().count()).isEqualTo(4);
                assertThat(registry.get(BridgeMetrics.INGEST_RECORDS).tag("result", "dead-lettered").counters().stream()
                        .filter(c -> c.count() > 0).toList())
                        .extracting(c -> c.getId().getTag("reason") + "=" + (int) c.count())
                        .containsExactlyInAnyOrder("undecodable=1", "bad-avro=1", "no-node=1", "bad-name=1");
            });
        }
    }

    @Test
    void shouldNotForwardAnythingTwiceAcrossARestart() throws Exception {
        Topics topics = new Topics("restart.");
        TopicAdmin.ensureTopics(clientSettings(), topics, PARTITIONS, (short) 1);
        try (Publisher publisher = new Publisher(topics.abnormalRequests().name())) {
            // its commit interval never passes: what it read is committed as it stops
            try (SourceBridge first = SourceBridge.start(config("restart.", "kdiag.bridge-commit-interval", "1h"), clientSettings(),
                    new SimpleMeterRegistry())) {
                publishRequests(publisher, 0, 20);
                awaitCommitted(topics.abnormals().name(), PARTITIONS, 20);
            }
            assertThat(committedIngestOffsets("restart.")).as("ingest offsets committed by the stopped bridge").isEqualTo(20);
            // published while no bridge runs: the next one must pick them up, and only them
            publishRequests(publisher, 20, 30);
            try (SourceBridge second = SourceBridge.start(config("restart."), clientSettings(), new SimpleMeterRegistry())) {
                publishRequests(publisher, 30, 40);
                List<ConsumerRecord<byte[], byte[]>> all = awaitCommitted(topics.abnormals().name(), PARTITIONS, 40);
                assertThat(all).extracting(r -> AvroSerde.of(AbnormalRequest.class).decode(r.value()).getName())
                        .containsExactlyInAnyOrderElementsOf(IntStream.range(0, 40).mapToObj(i -> "request-" + i).toList());
                await().during(Duration.ofSeconds(3)).atMost(WAIT)
                        .until(() -> committed(topics.abnormals().name(), PARTITIONS).size(), n -> n == 40);
            }
        }
    }

    private static void publishRequests(Publisher publisher, int from, int to) throws Exception {
        for (int i = from; i < to; i++) {
            publisher.send(null, bytes(Samples.jsonRequest("request-" + i, "node-" + (i % 7))));
        }
    }

    private static void assertDeadLetter(List<ConsumerRecord<byte[], byte[]>> deadLetters, RecordMetadata original, String key,
            byte[] value, String reason) {
        // records from several ingest partitions reach the dead letters in no fixed order
        ConsumerRecord<byte[], byte[]> dead = deadLetters.stream()
                .filter(r -> String.valueOf(original.partition()).equals(header(r, DeadLetterHeaders.SOURCE_PARTITION))
                        && String.valueOf(original.offset()).equals(header(r, DeadLetterHeaders.SOURCE_OFFSET)))
                .findFirst().orElseThrow(() -> new AssertionError("no dead letter for " + original));
        assertThat(key(dead)).isEqualTo(key);
        if (value != null) {
            assertThat(dead.value()).isEqualTo(value);
        }
        assertThat(header(dead, DeadLetterHeaders.SOURCE_TOPIC)).isEqualTo(original.topic());
        assertThat(header(dead, DeadLetterHeaders.SOURCE_PARTITION)).isEqualTo(String.valueOf(original.partition()));
        assertThat(header(dead, DeadLetterHeaders.SOURCE_OFFSET)).isEqualTo(String.valueOf(original.offset()));
        assertThat(header(dead, DeadLetterHeaders.REASON)).contains(reason);
    }

    private static SourceBridgeConfig config(String prefix, String... settings) {
        Map<String, String> properties = new HashMap<>(Map.of("kdiag.topic-prefix", prefix, "kdiag.http-port", "0",
                "kdiag.kubernetes", "off", "kdiag.signing-key", TestKeys.signingKeyFile().toString()));
        for (int i = 0; i < settings.length; i += 2) {
            properties.put(settings[i], settings[i + 1]);
        }
        return SourceBridgeConfig.from(ConfigSource.of(properties, Map.of()));
    }

    /** The sum of the offsets the bridge group of {@code prefix} committed on its ingest topic. */
    private static long committedIngestOffsets(String prefix) throws Exception {
        try (Admin admin = Admin.create(clientSettings())) {
            return admin.listConsumerGroupOffsets(new KafkaNames(prefix).bridgeGroup()).partitionsToOffsetAndMetadata()
                    .get(30, TimeUnit.SECONDS).values().stream().filter(Objects::nonNull).mapToLong(OffsetAndMetadata::offset).sum();
        }
    }

    private static Map<String, Object> clientSettings() {
        return Map.of("bootstrap.servers", kafka.bootstrapServers());
    }

    private static List<ConsumerRecord<byte[], byte[]>> committed(String topic, int partitions) {
        return Committed.records(kafka.bootstrapServers(), topic, partitions);
    }

    private static List<ConsumerRecord<byte[], byte[]>> awaitCommitted(String topic, int partitions, int count) {
        List<ConsumerRecord<byte[], byte[]>> records =
                await().atMost(WAIT).until(() -> committed(topic, partitions), r -> r.size() >= count);
        assertThat(records).hasSize(count);
        return records;
    }

    private static String key(ConsumerRecord<byte[], byte[]> record) {
        return record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** A plain producer, as any client of the open ingest topic. */
    private static final class Publisher implements AutoCloseable {
        private final String topic;
        private final KafkaProducer<byte[], byte[]> producer;

        Publisher(String topic) {
            this.topic = topic;
            this.producer = new KafkaProducer<>(Map.of("bootstrap.servers", kafka.bootstrapServers()),
                    new ByteArraySerializer(), new ByteArraySerializer());
        }

        RecordMetadata send(String key, byte[] value) throws Exception {
            byte[] keyBytes = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
            return producer.send(new ProducerRecord<>(topic, keyBytes, value)).get(30, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            producer.close();
        }
    }
}
