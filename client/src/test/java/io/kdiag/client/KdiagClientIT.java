package io.kdiag.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.client.examples.PublishAndAwait;
import io.kdiag.client.examples.ReadHistory;
import io.kdiag.client.examples.WatchLive;
import io.kdiag.model.StatusFold;
import io.kdiag.schemas.SchemaTopicStore;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.ApprovalRequested;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.schemas.avro.UnknownPayload;
import io.kdiag.testkit.LaterVersion;
import io.kdiag.testkit.RecordedEvents;
import io.kdiag.testkit.TestKafka;
import io.kdiag.testkit.TestKeys;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The client and its examples against a real broker, with a stand-in playing the pipeline on the topics. */
class KdiagClientIT {
    private static final String NODE = "client-it-node";
    private static final Topics TOPICS = Topics.withDefaultPrefix();

    static TestKafka kafka;
    static Map<String, Object> settings;
    static PipelineStandIn pipeline;
    static KdiagClient kdiag;

    @BeforeAll
    static void start() throws Exception {
        kafka = TestKafka.start();
        settings = Map.of("bootstrap.servers", kafka.bootstrapServers());
        try (Admin admin = Admin.create(settings)) {
            admin.createTopics(TOPICS.specs(12).stream()
                    .map(s -> new NewTopic(s.name(), s.partitions(), (short) 1).configs(s.config())).toList())
                    .all().get(30, TimeUnit.SECONDS);
        }
        pipeline = new PipelineStandIn(settings, TOPICS);
        kdiag = KdiagClient.builder().kafka(settings).build();
    }

    @AfterAll
    static void stop() throws Exception {
        if (kdiag != null) {
            kdiag.close();
        }
        if (pipeline != null) {
            pipeline.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    private static Abnormal abnormal(String name) {
        return ApiSerialization.abnormal("""
                apiVersion: diagnosis.netease.com/v1
                kind: Abnormal
                metadata: {name: %s, namespace: team-a}
                spec:
                  nodeName: %s
                  assignedInformationCollectors: [{name: process-collector, namespace: kube-diagnoser}]
                """.formatted(name, NODE));
    }

    @Test
    void shouldPublishKeyedByNodeAndAwaitTheFinalStatus() {
        AbnormalStatus status = PublishAndAwait.run(kdiag, abnormal("publish-await"));

        assertThat(status.getPhase()).isEqualTo(Phase.Succeeded);
        assertThat(status.getName()).isEqualTo("publish-await");
        assertThat(status.getNamespace()).isEqualTo("team-a");
        assertThat(pipeline.ingestKeys).contains(NODE).doesNotContainNull();
    }

    @Test
    void shouldReadEachSeqOfTheHistoryOnceInOrder() {
        AbnormalStatus status = PublishAndAwait.run(kdiag, abnormal("history"));

        List<String> lines = ReadHistory.run(kdiag, status.getUid());

        assertThat(lines).extracting(l -> l.split(" ")[0]).containsExactly("0", "1", "2", "3", "4", "5", "6", "7");
        assertThat(lines.get(0)).endsWith("Accepted");
        assertThat(kdiag.history(status.getUid(), NODE)).isEqualTo(kdiag.history(status.getUid()));
        assertThat(kdiag.history(status.getUid(), "some-other-node")).isEmpty();
    }

    @Test
    void shouldFollowEventsThatAreWrittenAfterTheWatchStarted() throws Exception {
        Abnormal abnormal = abnormal("watched");
        String uid = UUID.randomUUID().toString();
        abnormal.getMetadata().setUid(uid);
        List<DiagnosisEvent> seen = new CopyOnWriteArrayList<>();
        CompletableFuture<Boolean> watching = CompletableFuture.supplyAsync(() -> {
            try {
                return WatchLive.run(kdiag, uid, seen::add, Duration.ofSeconds(60));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });

        kdiag.publish(abnormal);

        assertThat(watching.get(90, TimeUnit.SECONDS)).isTrue();
        assertThat(seen).extracting(DiagnosisEvent::getSeq).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L);
    }

    @Test
    void shouldListStatusesAndFindTheNewestByName() {
        String first = PublishAndAwait.run(kdiag, abnormal("twice")).getUid();
        String second = PublishAndAwait.run(kdiag, abnormal("twice")).getUid();

        assertThat(kdiag.statuses()).containsKeys(first, second);
        Optional<AbnormalStatus> newest = kdiag.awaitStatus(s -> s.getName().equals("twice"), Duration.ofSeconds(5));
        assertThat(newest).map(AbnormalStatus::getUid).contains(second);
    }

    @Test
    void shouldWaitForAStatusThatAppearsLater() throws Exception {
        CompletableFuture<Optional<AbnormalStatus>> found = CompletableFuture.supplyAsync(
                () -> kdiag.awaitStatus(s -> s.getName().equals("later"), Duration.ofSeconds(60)));

        kdiag.publish(abnormal("later"));

        assertThat(found.get(90, TimeUnit.SECONDS)).map(AbnormalStatus::getName).contains("later");
    }

    @Test
    void shouldReadAHistoryWithEventsOfALaterVersion() throws Exception {
        String uid = PublishAndAwait.run(kdiag, abnormal("later-version")).getUid();
        new SchemaTopicStore(settings, TOPICS.schemas().name()).publish(List.of(LaterVersion.EVENT));
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(settings, new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(TOPICS.diagnosisEvents().name(), NODE,
                    LaterVersion.verifiedEvent(uid, 8, NODE, Instant.now(), true))).get(30, TimeUnit.SECONDS);
        }

        List<DiagnosisEvent> history = kdiag.history(uid);

        assertThat(history).extracting(DiagnosisEvent::getSeq).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
        assertThat(history.get(8).getPayload()).isEqualTo(new UnknownPayload(LaterVersion.NEW_PAYLOAD, "{\"verified\": true}"));
    }

    @Test
    void shouldPublishAtOnceWhateverLingerTheUserSet() {
        try (KdiagClient lingering = lingering()) {
            String uid = lingering.publish(abnormal("lingering"));

            assertThat(lingering.awaitFinalStatus(uid, Duration.ofSeconds(30))).map(AbnormalStatus::getPhase).contains(Phase.Succeeded);
        }
    }

    @Test
    void shouldDecideAtOnceWhateverLingerTheUserSet() throws Exception {
        NamespacedName recoverer = new NamespacedName("kube-diagnoser", "signal-recoverer");
        AbnormalStatus waiting = StatusFold.fold(new RecordedEvents("lingering-approval").accepted("x", "{\"nodeName\":\"node-1\"}")
                .at(500, new ApprovalRequested(recoverer, "{}", "the label kdiag.io/require-approval of the abnormal",
                        RecordedEvents.T0.plusSeconds(3600))).list());
        try (KdiagClient lingering = lingering()) {
            lingering.decide(waiting, true, "known issue", TestKeys.signingKey());
        }

        assertThat(recordsOn(TOPICS.approvals().name())).isEqualTo(1);
    }

    private static long recordsOn(String topic) throws Exception {
        try (Admin admin = Admin.create(settings)) {
            Map<TopicPartition, OffsetSpec> partitions = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(topic).partitions().stream().collect(Collectors.toMap(p -> new TopicPartition(topic, p.partition()), p -> OffsetSpec.latest()));
            return admin.listOffsets(partitions).all().get(30, TimeUnit.SECONDS).values().stream()
                    .mapToLong(ListOffsetsResult.ListOffsetsResultInfo::offset).sum();
        }
    }

    /** A client whose user set a linger far longer than the client waits: a write returns only if it is sent at once. */
    private static KdiagClient lingering() {
        Map<String, Object> lingering = new HashMap<>(settings);
        lingering.put(ProducerConfig.LINGER_MS_CONFIG, 600_000);
        return KdiagClient.builder().kafka(lingering).build();
    }

    @Test
    void shouldSayWhichTopicIsMissingInsteadOfCreatingIt() {
        try (KdiagClient wrongPrefix = KdiagClient.builder().kafka(settings).topicPrefix("nope.").build()) {
            assertThatThrownBy(wrongPrefix::statuses).isInstanceOf(KdiagException.class)
                    .hasMessageContaining("topic nope.abnormal-status does not exist");
        }
    }
}
