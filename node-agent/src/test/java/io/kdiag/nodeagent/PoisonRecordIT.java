package io.kdiag.nodeagent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.schemas.DeadLetterHeaders;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalFailed;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Accepted;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.testkit.RecordSizes;
import io.kdiag.testkit.TestKafka;
import io.kdiag.testkit.TestKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whatever lands on the agent's partition of {@code kdiag.abnormals}, the agent takes the next record: garbage of every
 * size around Kafka's limits, requests that decode but that no event can stand for, a request too large for its events,
 * a tombstone. Each is dead-lettered with its size and hash (or, the tombstone, counted), the abnormals behind them run,
 * and the agent stays alive.
 */
class PoisonRecordIT {
    private static final String NODE = "poison-node";
    private static final Topics TOPICS = new Topics("agent-poison.");
    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path stateDir;

    @Test
    void shouldRunTheAbnormalsBehindRecordsOfEverySizeAndShape() throws Exception {
        try (TestKafka kafka = TestKafka.start()) {
            String servers = kafka.bootstrapServers();
            TopicAdmin.ensureTopics(Map.of("bootstrap.servers", servers), TOPICS, 1, (short) 1);
            RecordSizes.allowLargeRecords(servers, TOPICS.abnormals().name());
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            List<RecordMetadata> garbage = new ArrayList<>();
            List<byte[]> garbageValues = new ArrayList<>();
            AbnormalSpec nothingAssigned = new AbnormalSpec();
            nothingAssigned.nodeName = NODE;
            AbnormalSpec huge = new AbnormalSpec();
            huge.nodeName = NODE;
            huge.context = Map.of("padding", "p".repeat(RecordSizes.PRODUCER_LIMIT));
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(RecordSizes.largeRecordProducer(servers),
                    new ByteArraySerializer(), new ByteArraySerializer())) {
                send(producer, encode(Fixtures.request("before", NODE, nothingAssigned)));
                for (int size : RecordSizes.aroundEveryLimit()) {
                    byte[] value = RecordSizes.filled(size, 'x');
                    garbageValues.add(value);
                    garbage.add(send(producer, value));
                }
                // decodable, but forged: no uid; a name no Kubernetes object has
                RecordMetadata noUid = send(producer, encode(AbnormalRequest.newBuilder(Fixtures.request("x", NODE, nothingAssigned))
                        .setUid("").build()));
                RecordMetadata longName = send(producer, encode(AbnormalRequest.newBuilder(Fixtures.request("long", NODE, nothingAssigned))
                        .setName("n".repeat(100_000)).build()));
                send(producer, encode(Fixtures.request("too-large", NODE, huge)));
                send(producer, null);
                send(producer, encode(Fixtures.request("after", NODE, nothingAssigned)));

                NodeAgent agent = NodeAgent.start(NodeAgentConfig.from(ConfigSource.of(Map.of("kdiag.node-name", NODE,
                        "kdiag.state-dir", stateDir.toString(), "kdiag.kubernetes", "off", "kdiag.http-port", "0",
                        "kdiag.topic-prefix", TOPICS.prefix(),
                        "kdiag.verification-keys", TestKeys.verificationKeyFile().toString()), Map.of())),
                        new HashMap<>(Map.of("bootstrap.servers", servers)), registry);
                try (agent) {
                    List<DiagnosisEvent> events = await().atMost(WAIT).until(() -> Fixtures.readAll(servers, TOPICS.diagnosisEvents().name()).stream()
                            .map(r -> TOPICS.diagnosisEvents().valueSerde().deserializer().deserialize("", r.value())).toList(),
                            e -> e.stream().anyMatch(ev -> ev.getAbnormalUid().equals("after") && ev.getPayload() instanceof StageFinished));
                    assertThat(events).filteredOn(e -> e.getAbnormalUid().equals("before")).isNotEmpty();
                    List<DiagnosisEvent> tooLarge = events.stream().filter(e -> e.getAbnormalUid().equals("too-large")).toList();
                    assertThat(tooLarge).extracting(e -> e.getPayload().getClass().getSimpleName()).containsExactly("Accepted", "AbnormalFailed");
                    assertThat(((Accepted) tooLarge.get(0).getPayload()).getSpec()).isEqualTo("{}");
                    assertThat(((AbnormalFailed) tooLarge.get(1).getPayload()).getReason()).isEqualTo("RequestTooLarge");

                    List<ConsumerRecord<byte[], byte[]>> dead = await().atMost(WAIT)
                            .until(() -> Fixtures.readAll(servers, TOPICS.deadLetters().name()), d -> d.size() >= garbage.size() + 2);
                    for (int i = 0; i < garbage.size(); i++) {
                        ConsumerRecord<byte[], byte[]> letter = letterFor(dead, garbage.get(i));
                        assertThat(Fixtures.header(letter, DeadLetterHeaders.ORIGINAL_VALUE_BYTES)).isEqualTo(String.valueOf(garbageValues.get(i).length));
                        assertThat(Fixtures.header(letter, DeadLetterHeaders.ORIGINAL_VALUE_SHA256)).isEqualTo(sha256(garbageValues.get(i)));
                        assertThat(Fixtures.header(letter, DeadLetterHeaders.REASON)).contains("AbnormalRequest");
                        assertThat(letter.serializedValueSize()).isLessThan(RecordSizes.PRODUCER_LIMIT);
                    }
                    assertThat(Fixtures.header(letterFor(dead, noUid), DeadLetterHeaders.REASON)).contains("no uid");
                    assertThat(Fixtures.header(letterFor(dead, longName), DeadLetterHeaders.REASON)).contains("name has 100000 characters");
                    assertThat(unrunnable(registry, "undecodable")).isEqualTo(garbage.size());
                    assertThat(unrunnable(registry, "invalid")).isEqualTo(2);
                    assertThat(unrunnable(registry, "tombstone")).isEqualTo(1);
                    HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + agent.httpPort() + "/healthz")).build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(health.statusCode()).isEqualTo(200);
                }
            }
        }
    }

    private static double unrunnable(SimpleMeterRegistry registry, String reason) {
        return registry.get("kdiag.agent.unrunnable.records").tag("reason", reason).counter().count();
    }

    private static byte[] encode(AbnormalRequest request) {
        return TOPICS.abnormals().valueSerde().serializer().serialize("", request);
    }

    /** Sends {@code value} as a gate would: signed, so what the agent makes of its content is what is tested. */
    private static RecordMetadata send(KafkaProducer<byte[], byte[]> producer, byte[] value) throws Exception {
        byte[] key = NODE.getBytes(StandardCharsets.UTF_8);
        RecordHeaders headers = new RecordHeaders();
        if (value != null) {
            TestKeys.signingKey().sign(key, value, headers);
        }
        return producer.send(new ProducerRecord<>(TOPICS.abnormals().name(), null, key, value, headers)).get(30, TimeUnit.SECONDS);
    }

    private static ConsumerRecord<byte[], byte[]> letterFor(List<ConsumerRecord<byte[], byte[]>> letters, RecordMetadata original) {
        return letters.stream().filter(r -> String.valueOf(original.offset()).equals(Fixtures.header(r, DeadLetterHeaders.SOURCE_OFFSET)))
                .findFirst().orElseThrow(() -> new AssertionError("no dead letter for " + original));
    }


    private static String sha256(byte[] value) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value));
    }
}
