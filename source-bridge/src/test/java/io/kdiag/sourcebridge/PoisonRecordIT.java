package io.kdiag.sourcebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.schemas.DeadLetterHeaders;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.sourcebridge.gate.BridgeMetrics;
import io.kdiag.testkit.TestKafka;
import io.kdiag.testkit.TestKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Records of every size around Kafka's limits on the open ingest topic: each one is forwarded or dead-lettered, and the
 * valid records behind it still go through. The ingest topic accepts records over 1 MiB (as many brokers do), so a
 * record can arrive that is too large to copy whole into a dead letter the bridge's producer may send.
 */
class PoisonRecordIT {
    private static final int PARTITIONS = 1;
    /** What the ingest topic takes: more than the producer's default {@code max.request.size} of 1 MiB. */
    private static final int INGEST_MAX_MESSAGE_BYTES = 1_100_000;
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
    void shouldDeadLetterEveryRecordAroundTheSizeLimitsAndKeepForwarding() throws Exception {
        Topics topics = new Topics("poison.");
        TopicAdmin.ensureTopics(clientSettings(), topics, PARTITIONS, (short) 1);
        setMaxMessageBytes(topics.abnormalRequests().name(), INGEST_MAX_MESSAGE_BYTES);
        // the reproduction of the report: 1,048,400 bytes of 'x', as `head -c 1048400 /dev/zero | tr '\0' x` makes
        int[] sizes = {1_025_000, 1_040_000, 1_048_400, 1_048_576, 1_090_000};
        List<RecordMetadata> poison = new ArrayList<>();
        List<byte[]> values = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> publisher = publisher()) {
            send(publisher, topics, null, bytes(Samples.jsonRequest("before-the-poison", "node-a")));
            for (int size : sizes) {
                byte[] value = new byte[size];
                Arrays.fill(value, (byte) 'x');
                values.add(value);
                poison.add(send(publisher, topics, "node-a", value));
            }
            // a record whose key alone is larger than any dead letter should carry
            byte[] hugeKey = new byte[4096];
            Arrays.fill(hugeKey, (byte) 'k');
            RecordMetadata keyed = publisher.send(new ProducerRecord<>(topics.abnormalRequests().name(), hugeKey, bytes("{}")))
                    .get(30, TimeUnit.SECONDS);
            send(publisher, topics, null, bytes(Samples.jsonRequest("after-the-poison", "node-a")));

            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (SourceBridge bridge = SourceBridge.start(config("poison."), clientSettings(), registry)) {
                List<AbnormalRequest> forwarded = Committed.awaitSteady(kafka.bootstrapServers(), topics.abnormals().name(), PARTITIONS, 2);
                assertThat(forwarded).extracting(AbnormalRequest::getName).containsExactly("before-the-poison", "after-the-poison");

                List<ConsumerRecord<byte[], byte[]>> dead = awaitRecords(topics.deadLetters().name(), sizes.length + 1);
                for (int i = 0; i < sizes.length; i++) {
                    ConsumerRecord<byte[], byte[]> letter = letterFor(dead, poison.get(i));
                    assertThat(header(letter, DeadLetterHeaders.ORIGINAL_VALUE_BYTES)).isEqualTo(String.valueOf(sizes[i]));
                    assertThat(header(letter, DeadLetterHeaders.ORIGINAL_VALUE_SHA256)).isEqualTo(sha256(values.get(i)));
                    assertThat(header(letter, DeadLetterHeaders.REASON)).contains("neither Avro single-object encoding");
                    if (sizes[i] <= 1_025_000) {
                        assertThat(letter.value()).as("a record that fits is copied whole").isEqualTo(values.get(i));
                        assertThat(header(letter, DeadLetterHeaders.TRUNCATED)).isNull();
                    } else {
                        assertThat(header(letter, DeadLetterHeaders.TRUNCATED)).as("size %d", sizes[i]).isEqualTo("value");
                        assertThat(letter.value()).hasSize(64 * 1024).containsOnly((byte) 'x');
                    }
                }
                ConsumerRecord<byte[], byte[]> keyLetter = letterFor(dead, keyed);
                assertThat(keyLetter.key()).hasSize(1024);
                assertThat(header(keyLetter, DeadLetterHeaders.ORIGINAL_KEY_BYTES)).isEqualTo("4096");
                assertThat(header(keyLetter, DeadLetterHeaders.TRUNCATED)).isEqualTo("key");
                assertThat(registry.get(BridgeMetrics.INGEST_RECORDS).tag("result", "dead-lettered").counters().stream()
                        .mapToDouble(c -> c.count()).sum()).isEqualTo(sizes.length + 1);
            }
        }
    }

    /**
     * A dead-letter topic that takes only small records: the broker refuses the copy, and the bridge writes less of it
     * each time (the start, then only the headers) instead of retrying the same transaction forever.
     */
    @Test
    void shouldWriteLessOfADeadLetterThatTheBrokerRefuses() throws Exception {
        Topics topics = new Topics("tiny-dlq.");
        TopicAdmin.ensureTopics(clientSettings(), topics, PARTITIONS, (short) 1);
        setMaxMessageBytes(topics.deadLetters().name(), 20_000);
        byte[] medium = new byte[50_000];
        Arrays.fill(medium, (byte) 'y');
        try (KafkaProducer<byte[], byte[]> publisher = publisher();
             SourceBridge bridge = SourceBridge.start(config("tiny-dlq."), clientSettings(), new SimpleMeterRegistry())) {
            RecordMetadata refused = send(publisher, topics, "node-b", medium);
            send(publisher, topics, null, bytes(Samples.jsonRequest("behind-the-refused-one", "node-b")));

            List<AbnormalRequest> forwarded = Committed.awaitSteady(kafka.bootstrapServers(), topics.abnormals().name(), PARTITIONS, 1);
            assertThat(forwarded).extracting(AbnormalRequest::getName).containsExactly("behind-the-refused-one");
            ConsumerRecord<byte[], byte[]> letter = letterFor(awaitRecords(topics.deadLetters().name(), 1), refused);
            assertThat(letter.value()).isEmpty();
            assertThat(header(letter, DeadLetterHeaders.TRUNCATED)).isEqualTo("value");
            assertThat(header(letter, DeadLetterHeaders.ORIGINAL_VALUE_BYTES)).isEqualTo("50000");
            assertThat(header(letter, DeadLetterHeaders.REASON)).contains("too large");
        }
    }

    private static void setMaxMessageBytes(String topic, int bytes) throws Exception {
        try (Admin admin = Admin.create(clientSettings())) {
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, topic), List.of(new AlterConfigOp(
                    new ConfigEntry("max.message.bytes", String.valueOf(bytes)), AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
        }
    }

    private static KafkaProducer<byte[], byte[]> publisher() {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, INGEST_MAX_MESSAGE_BYTES), new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static RecordMetadata send(KafkaProducer<byte[], byte[]> producer, Topics topics, String key, byte[] value) throws Exception {
        byte[] keyBytes = key == null ? null : bytes(key);
        return producer.send(new ProducerRecord<>(topics.abnormalRequests().name(), keyBytes, value)).get(30, TimeUnit.SECONDS);
    }

    private static List<ConsumerRecord<byte[], byte[]>> awaitRecords(String topic, int count) {
        return await().atMost(Committed.WAIT).until(() -> Committed.records(kafka.bootstrapServers(), topic, PARTITIONS), r -> r.size() >= count);
    }

    private static ConsumerRecord<byte[], byte[]> letterFor(List<ConsumerRecord<byte[], byte[]>> letters, RecordMetadata original) {
        return letters.stream()
                .filter(r -> String.valueOf(original.offset()).equals(header(r, DeadLetterHeaders.SOURCE_OFFSET)))
                .findFirst().orElseThrow(() -> new AssertionError("no dead letter for " + original));
    }

    private static SourceBridgeConfig config(String prefix) {
        return SourceBridgeConfig.from(ConfigSource.of(
                Map.of("kdiag.topic-prefix", prefix, "kdiag.http-port", "0", "kdiag.kubernetes", "off",
                        "kdiag.signing-key", TestKeys.signingKeyFile().toString()), Map.of()));
    }

    private static Map<String, Object> clientSettings() {
        return Map.of("bootstrap.servers", kafka.bootstrapServers());
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static String sha256(byte[] value) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
