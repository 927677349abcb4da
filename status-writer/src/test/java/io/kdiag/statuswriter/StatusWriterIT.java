package io.kdiag.statuswriter;

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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import io.kdiag.api.ApiSerialization;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.common.kubernetes.KubernetesConnection;
import io.kdiag.model.StatusFold;
import io.kdiag.model.StatusProjection;
import io.kdiag.schemas.DeadLetterHeaders;
import io.kdiag.schemas.Topic;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.statuswriter.fold.WriterDeadLetters;
import io.kdiag.statuswriter.kubernetes.CrStatusWriter;
import io.kdiag.testkit.Events;
import io.kdiag.testkit.MockCluster;
import io.kdiag.testkit.RecordSizes;
import io.kdiag.testkit.TestKafka;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StatusWriterIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final String NAMESPACE = "default";
    private static final String NAME = "pod-disk-usage-diagnosis";
    private static TestKafka kafka;

    @TempDir
    Path stateDir;

    @BeforeAll
    static void startKafka() {
        kafka = TestKafka.start();
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    @Test
    void shouldFoldTheEventsIntoTheFinalSnapshot() {
        List<DiagnosisEvent> run = Events.seedRun("uid-fold");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();

        try (Scenario scenario = new Scenario("it-fold");
                StatusWriter writer = StatusWriter.start(scenario.config, scenario.client, registry);
                KafkaProducer<String, byte[]> producer = producer()) {
            run.forEach(event -> scenario.send(producer, event));
            producer.send(new ProducerRecord<>(scenario.topics.diagnosisEvents().name(), Events.NODE,
                    "not avro".getBytes(StandardCharsets.UTF_8)));
            scenario.send(producer, run.get(3));

            AbnormalStatus last = scenario.awaitSnapshot("uid-fold", run.size() - 1);
            assertThat(last).isEqualTo(StatusFold.fold(run));
            assertThat(last.getPhase()).isEqualTo(Phase.Succeeded);
            ConsumerRecord<byte[], byte[]> dead = scenario.awaitDeadLetter();
            assertThat(new String(dead.value(), StandardCharsets.UTF_8)).isEqualTo("not avro");
            assertThat(new String(dead.headers().lastHeader(DeadLetterHeaders.SOURCE_TOPIC).value(), StandardCharsets.UTF_8))
                    .isEqualTo(scenario.topics.diagnosisEvents().name());
            assertThat(registry.getMeters()).anySatisfy(m -> assertThat(m.getId().getName()).startsWith("kafka.stream"));
        }
    }

    /**
     * Garbage of every size around Kafka's limits between an abnormal's events, on an events topic that takes records
     * over 1 MiB: each is dead-lettered (cut to what the writer's producer may send, with its size and hash) and counted,
     * and the abnormal's events behind it are folded.
     */
    @Test
    void shouldDeadLetterRecordsOfEverySizeAroundTheLimitsAndFoldTheRest() throws Exception {
        List<DiagnosisEvent> run = Events.seedRun("uid-poison");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();

        try (Scenario scenario = new Scenario("it-poison");
                KafkaProducer<String, byte[]> producer = new KafkaProducer<>(RecordSizes.largeRecordProducer(kafka.bootstrapServers()),
                        new StringSerializer(), new ByteArraySerializer())) {
            RecordSizes.allowLargeRecords(kafka.bootstrapServers(), scenario.topics.diagnosisEvents().name());
            scenario.send(producer, run.get(0));
            Map<Long, byte[]> garbage = new HashMap<>();
            for (int size : RecordSizes.aroundEveryLimit()) {
                byte[] value = RecordSizes.filled(size, 'x');
                long offset = producer.send(new ProducerRecord<>(scenario.topics.diagnosisEvents().name(), Events.NODE, value))
                        .get(30, TimeUnit.SECONDS).offset();
                garbage.put(offset, value);
            }
            run.subList(1, run.size()).forEach(event -> scenario.send(producer, event));
            producer.flush();

            try (StatusWriter writer = StatusWriter.start(scenario.config, scenario.client, registry)) {
                assertThat(scenario.awaitSnapshot("uid-poison", run.size() - 1)).isEqualTo(StatusFold.fold(run));
                List<ConsumerRecord<byte[], byte[]>> letters = scenario.awaitDeadLetters(garbage.size());
                assertThat(letters).hasSize(garbage.size()).allSatisfy(letter -> {
                    byte[] original = garbage.get(Long.parseLong(header(letter, DeadLetterHeaders.SOURCE_OFFSET)));
                    assertThat(original).as("the original of a dead letter").isNotNull();
                    assertThat(header(letter, DeadLetterHeaders.ORIGINAL_VALUE_BYTES)).isEqualTo(String.valueOf(original.length));
                    assertThat(header(letter, DeadLetterHeaders.ORIGINAL_VALUE_SHA256)).isEqualTo(sha256(original));
                    assertThat(header(letter, DeadLetterHeaders.TRUNCATED)).isEqualTo("value");
                    assertThat(letter.serializedValueSize()).isLessThan(RecordSizes.PRODUCER_LIMIT);
                });
                assertThat(registry.get(WriterDeadLetters.METRIC).tag("reason", WriterDeadLetters.UNDECODABLE).counter().count())
                        .isEqualTo(garbage.size());
            }
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    private static String sha256(byte[] value) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value));
    }

    @Test
    void shouldEndWithTheSameSnapshotWhenRestartedMidStream() {
        List<DiagnosisEvent> run = Events.seedRun("uid-restart");

        try (Scenario scenario = new Scenario("it-restart"); KafkaProducer<String, byte[]> producer = producer()) {
            try (StatusWriter writer = StatusWriter.start(scenario.config, scenario.client, new SimpleMeterRegistry())) {
                run.subList(0, 6).forEach(event -> scenario.send(producer, event));
                assertThat(scenario.awaitSnapshot("uid-restart", 5).getPhase()).isEqualTo(Phase.Diagnosing);
            }
            // while it is down: the rest out of order, and events it already folded
            List<DiagnosisEvent> rest = new ArrayList<>(run.subList(6, run.size()));
            Collections.reverse(rest);
            rest.forEach(event -> scenario.send(producer, event));
            scenario.send(producer, run.get(2));

            try (StatusWriter writer = StatusWriter.start(scenario.config, scenario.client, new SimpleMeterRegistry())) {
                assertThat(scenario.awaitSnapshot("uid-restart", run.size() - 1)).isEqualTo(StatusFold.fold(run));
            }
        }
    }

    @Test
    void shouldPublishOnlyTheSameSnapshotsWhenItReadsEveryEventAgain() throws Exception {
        // what a crash does at least once, for the whole history: the committed offsets set back to the start, over
        // stores that hold every event already
        List<DiagnosisEvent> finished = Events.seedRun("uid-done");
        List<DiagnosisEvent> running = Events.seedRun("uid-running").subList(0, 6);

        try (Scenario scenario = new Scenario("it-reread"); KafkaProducer<String, byte[]> producer = producer()) {
            try (StatusWriter writer = StatusWriter.start(scenario.config, scenario.client, new SimpleMeterRegistry())) {
                finished.forEach(event -> scenario.send(producer, event));
                running.forEach(event -> scenario.send(producer, event));
                scenario.awaitSnapshot("uid-done", finished.size() - 1);
                scenario.awaitSnapshot("uid-running", running.size() - 1);
            }
            try (Admin admin = Admin.create(scenario.client)) {
                String events = scenario.topics.diagnosisEvents().name();
                Map<TopicPartition, OffsetAndMetadata> start = new HashMap<>();
                admin.describeTopics(List.of(events)).allTopicNames().get().get(events).partitions()
                        .forEach(p -> start.put(new TopicPartition(events, p.partition()), new OffsetAndMetadata(0)));
                admin.alterConsumerGroupOffsets(scenario.config.applicationId(), start).all().get();
            }
            scenario.readStatusToEnd();

            try (StatusWriter writer = StatusWriter.start(scenario.config, scenario.client, new SimpleMeterRegistry())) {
                // each abnormal's snapshot is published again: the duplicates could be events whose snapshot was lost
                List<ConsumerRecord<String, AbnormalStatus>> again = new ArrayList<>();
                await().atMost(TIMEOUT).untilAsserted(() -> {
                    again.addAll(scenario.readStatusToEnd());
                    assertThat(again).extracting(ConsumerRecord::key).contains("uid-done", "uid-running");
                });
                assertThat(again).allSatisfy(r -> assertThat(r.value()).isEqualTo(StatusFold.fold(
                        r.key().equals("uid-done") ? finished : running)));
            }
        }
    }

    @Test
    void shouldLeaveTheCrStatusEqualToTheFoldAfterARestartMidStream() {
        // a run of now: the CR reaper, which runs at every start, must not take the CR for an old one
        List<DiagnosisEvent> run = Events.startingAt(Instant.now(), Events.seedRun("uid-cr"));

        try (MockCluster cluster = new MockCluster(); Scenario scenario = new Scenario("it-cr");
                KafkaProducer<String, byte[]> producer = producer()) {
            cluster.createAbnormal(NAMESPACE, NAME, "uid-cr");
            try (StatusWriter writer = StatusWriter.start(scenario.config, scenario.client, new SimpleMeterRegistry(), cluster.client())) {
                run.subList(0, 6).forEach(event -> scenario.send(producer, event));
                await().atMost(TIMEOUT).untilAsserted(() -> assertThat(cluster.abnormal(NAMESPACE, NAME).getStatus())
                        .isNotNull().extracting(s -> s.phase).isEqualTo("Diagnosing"));
            }
            List<DiagnosisEvent> rest = new ArrayList<>(run.subList(6, run.size()));
            Collections.reverse(rest);
            rest.forEach(event -> scenario.send(producer, event));
            scenario.send(producer, run.get(2));

            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (StatusWriter writer = StatusWriter.start(scenario.config, scenario.client, registry, cluster.client())) {
                Map<String, Object> expected = tree(StatusProjection.status(StatusFold.fold(run)));
                await().atMost(TIMEOUT).untilAsserted(() ->
                        assertThat(tree(cluster.abnormal(NAMESPACE, NAME).getStatus())).isEqualTo(expected));
                assertThat(registry.find(CrStatusWriter.METRIC).tag("result", "written").counter()).isNotNull();
            }
        }
    }

    @Test
    void shouldServeTheListTheAbnormalAndItsHistoryOverHttp() throws Exception {
        List<DiagnosisEvent> run = Events.seedRun("uid-http");
        HttpClient http = HttpClient.newHttpClient();

        try (Scenario scenario = new Scenario("it-http");
                StatusWriter writer = StatusWriter.start(scenario.config, scenario.client, new SimpleMeterRegistry());
                KafkaProducer<String, byte[]> producer = producer()) {
            run.forEach(event -> scenario.send(producer, event));
            String one = "http://127.0.0.1:" + writer.httpPort() + "/api/v1/namespaces/" + NAMESPACE + "/abnormals/" + NAME;

            await().atMost(TIMEOUT).untilAsserted(() -> assertThat(get(http, one))
                    .isEqualTo(tree(StatusProjection.abnormal(StatusFold.fold(run)))));
            Map<String, Object> list = get(http, "http://127.0.0.1:" + writer.httpPort() + "/api/v1/abnormals?namespace=" + NAMESPACE);
            assertThat(list.get("items")).asList().singleElement().isEqualTo(tree(StatusProjection.abnormal(StatusFold.fold(run))));
            Map<String, Object> history = get(http, one + "/history");
            assertThat(history).containsEntry("uid", "uid-http");
            assertThat(history.get("events")).asList().hasSize(run.size());
            assertThat(get(http, "http://127.0.0.1:" + writer.httpPort() + "/readyz")).containsEntry("status", "ok");
        }
    }

    private static Map<String, Object> get(HttpClient http, String uri) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(uri)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return ApiSerialization.jsonObject(response.body());
    }

    private static Map<String, Object> tree(Object value) {
        return ApiSerialization.jsonObject(ApiSerialization.json(value));
    }

    private static KafkaProducer<String, byte[]> producer() {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new StringSerializer(), new ByteArraySerializer());
    }

    /** One scenario's own topics, application id and state directory, so scenarios never see each other. */
    private final class Scenario implements AutoCloseable {
        final Topics topics;
        final Map<String, Object> client;
        final StatusWriterConfig config;
        private final Map<String, AbnormalStatus> latest = new HashMap<>();
        private final KafkaConsumer<String, AbnormalStatus> statusConsumer;

        Scenario(String name) {
            String prefix = name + "-" + UUID.randomUUID().toString().substring(0, 8) + ".";
            topics = new Topics(prefix);
            client = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
            TopicAdmin.ensureTopics(client, topics, 3, (short) 1);
            config = StatusWriterConfig.of(stateDir.resolve(name), prefix + "status-writer", prefix, 0, KubernetesConnection.Mode.OFF);
            Topic<String, AbnormalStatus> status = topics.abnormalStatus();
            statusConsumer = consumer(status.name(), status.keySerde(), status.valueSerde());
        }

        void send(KafkaProducer<String, byte[]> producer, DiagnosisEvent event) {
            Topic<String, DiagnosisEvent> events = topics.diagnosisEvents();
            producer.send(new ProducerRecord<>(events.name(), event.getNodeName(),
                    events.valueSerde().serializer().serialize(events.name(), event)));
        }

        AbnormalStatus awaitSnapshot(String uid, long lastSeq) {
            await().atMost(TIMEOUT).untilAsserted(() -> {
                statusConsumer.poll(Duration.ofMillis(200)).forEach(r -> latest.put(r.key(), r.value()));
                assertThat(latest.get(uid)).isNotNull().extracting(AbnormalStatus::getLastSeq).isEqualTo(lastSeq);
            });
            return latest.get(uid);
        }

        /** The status records written since the last call (all of them the first time). */
        List<ConsumerRecord<String, AbnormalStatus>> readStatusToEnd() {
            List<ConsumerRecord<String, AbnormalStatus>> records = new ArrayList<>();
            ConsumerRecords<String, AbnormalStatus> polled;
            do {
                polled = statusConsumer.poll(Duration.ofMillis(500));
                polled.forEach(records::add);
            } while (!polled.isEmpty());
            records.forEach(r -> latest.put(r.key(), r.value()));
            return records;
        }

        ConsumerRecord<byte[], byte[]> awaitDeadLetter() {
            return awaitDeadLetters(1).get(0);
        }

        /** The first {@code count} dead letters, once there are that many. */
        List<ConsumerRecord<byte[], byte[]>> awaitDeadLetters(int count) {
            Topic<byte[], byte[]> deadLetters = topics.deadLetters();
            List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
            try (KafkaConsumer<byte[], byte[]> consumer = consumer(deadLetters.name(), deadLetters.keySerde(), deadLetters.valueSerde())) {
                await().atMost(TIMEOUT).untilAsserted(() -> {
                    consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                    assertThat(records).hasSizeGreaterThanOrEqualTo(count);
                });
            }
            return records.subList(0, count);
        }

        @Override
        public void close() {
            statusConsumer.close();
        }

        private <K, V> KafkaConsumer<K, V> consumer(String topic, Serde<K> key, Serde<V> value) {
            KafkaConsumer<K, V> consumer = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), key.deserializer(), value.deserializer());
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            return consumer;
        }
    }
}
