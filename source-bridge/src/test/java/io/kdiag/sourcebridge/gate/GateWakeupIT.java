package io.kdiag.sourcebridge.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.sourcebridge.Samples;
import io.kdiag.testkit.TestKafka;
import io.kdiag.testkit.TestKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The gate takes a submission and settles a batch as soon as they come, not when its wait for new work runs out: with
 * that wait far longer than the test, a verdict given and offsets committed at all show that they woke it.
 */
class GateWakeupIT {
    /** Far longer than the test may take: only a wake-up ends the gate's wait. */
    private static final Duration IDLE_WAIT = Duration.ofMinutes(10);
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final GateOptions OPTIONS = new GateOptions(Duration.ofMinutes(5), 1000, 1000, "bridge/", (short) 1,
            Duration.ofMinutes(5));
    private static TestKafka kafka;
    private static Map<String, Object> settings;

    @BeforeAll
    static void startKafka() {
        kafka = TestKafka.start();
        settings = Map.of("bootstrap.servers", kafka.bootstrapServers());
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    private static Topics topics(String prefix) {
        Topics topics = new Topics(prefix);
        TopicAdmin.ensureTopics(settings, topics, 1, (short) 1);
        return topics;
    }

    @Test
    void shouldGiveAVerdictOnceItsRecordsAreAcknowledged() throws Exception {
        Topics topics = topics("wake-queue.");
        try (Gate gate = Gate.start(topics, settings, null, OPTIONS, TestKeys.signingKey(), r -> { }, new SimpleMeterRegistry(), IDLE_WAIT)) {
            Verdict verdict = gate.submit(new Submission("custom-resource", Samples.avroRequest("node-1", Origin.CustomResource), null, false,
                    false)).get(WAIT.toSeconds(), TimeUnit.SECONDS);

            assertThat(verdict.outcome()).isEqualTo(Verdict.Outcome.FORWARDED);
        }
    }

    @Test
    void shouldCommitTheIngestOffsetsOnceTheBatchIsAcknowledged() throws Exception {
        Topics topics = topics("wake-ingest.");
        Gate.IngestGroup group = new Gate.IngestGroup("wake-ingest", "wake-ingest-0", Duration.ZERO);
        try (Gate gate = Gate.start(topics, settings, group, OPTIONS, TestKeys.signingKey(), r -> { }, new SimpleMeterRegistry(), IDLE_WAIT);
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(settings, new ByteArraySerializer(), new ByteArraySerializer());
             Admin admin = Admin.create(settings)) {
            producer.send(new ProducerRecord<>(topics.abnormalRequests().name(), "node-1".getBytes(StandardCharsets.UTF_8),
                    Samples.jsonRequest("disk-full", "node-1").getBytes(StandardCharsets.UTF_8))).get(WAIT.toSeconds(), TimeUnit.SECONDS);

            // the one request read, forwarded, its dedup entry written, then its offset committed
            await().atMost(WAIT).untilAsserted(() -> assertThat(admin.listConsumerGroupOffsets("wake-ingest").partitionsToOffsetAndMetadata()
                    .get(WAIT.toSeconds(), TimeUnit.SECONDS).values().stream().mapToLong(OffsetAndMetadata::offset).sum()).isEqualTo(1));
        }
    }

    @Test
    void shouldTakeASubmissionWhileWaitingForIngestRecords() throws Exception {
        Topics topics = topics("wake-submit.");
        Gate.IngestGroup group = new Gate.IngestGroup("wake-submit", "wake-submit-0", Duration.ZERO);
        try (Gate gate = Gate.start(topics, settings, group, OPTIONS, TestKeys.signingKey(), r -> { }, new SimpleMeterRegistry(), IDLE_WAIT)) {
            Verdict verdict = gate.submit(new Submission("custom-resource", Samples.avroRequest("node-2", Origin.CustomResource), null, false,
                    false)).get(WAIT.toSeconds(), TimeUnit.SECONDS);

            assertThat(verdict.outcome()).isEqualTo(Verdict.Outcome.FORWARDED);
        }
    }
}
