package io.kdiag.statuswriter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.KafkaNames;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.schemas.Topic;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.testkit.Events;
import io.kdiag.testkit.TestKafka;
import io.kdiag.testkit.TopicSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status writer's probes beyond a stuck thread ({@link StuckLoopIT}): readiness follows how far the fold is behind
 * the events topic, and liveness fails when a stream thread dies.
 */
class StreamsHealthIT {
    @TempDir
    Path stateDir;

    private StatusWriter start(String servers, Topics topics) {
        TopicAdmin.ensureTopics(Map.of("bootstrap.servers", servers), topics, 1, (short) 1);
        StatusWriterConfig config = StatusWriterConfig.from(ConfigSource.of(Map.of("kdiag.state-dir", stateDir.toString(),
                "kdiag.topic-prefix", topics.prefix(), "kdiag.http-port", "0", "kdiag.kubernetes", "off"), Map.of()));
        return StatusWriter.start(config, Map.of("bootstrap.servers", servers), new SimpleMeterRegistry());
    }

    @Test
    void shouldBeUnreadyWhileTheFoldIsFarBehindAndReadyOnceItCaughtUp() throws Exception {
        Topics topics = new Topics("writer-lag.");
        Topic<String, DiagnosisEvent> events = topics.diagnosisEvents();
        try (TestKafka kafka = TestKafka.start(); StatusWriter writer = start(kafka.bootstrapServers(), topics);
             KafkaProducer<String, DiagnosisEvent> producer = new KafkaProducer<>(Map.of("bootstrap.servers", kafka.bootstrapServers(),
                     ProducerConfig.LINGER_MS_CONFIG, 50, ProducerConfig.BATCH_SIZE_CONFIG, 1 << 20),
                     events.keySerde().serializer(), events.valueSerde().serializer())) {
            String base = "http://127.0.0.1:" + writer.httpPort();
            await().atMost(Duration.ofSeconds(60)).until(() -> get(base + "/readyz").statusCode() == 200);

            // far more than READY_LAG at once, faster than the fold takes them
            int runs = 500;
            int eventsPerRun = Events.seedRun("lag").size();
            for (int i = 0; i < runs; i++) {
                for (DiagnosisEvent event : Events.seedRun("lag-" + i)) {
                    producer.send(new ProducerRecord<>(events.name(), event.getNodeName(), event));
                }
            }
            producer.flush();
            HttpResponse<String> behind = await().pollInterval(Duration.ofMillis(20)).atMost(Duration.ofSeconds(60))
                    .until(() -> get(base + "/readyz"), r -> r.body().contains("events behind"));
            assertThat(behind.statusCode()).isEqualTo(503);
            assertThat(behind.body()).contains("NotReady", "ready at " + StreamsHealth.READY_LAG + ")");
            assertThat(get(base + "/healthz").statusCode()).as("behind is not dead").isEqualTo(200);

            // caught up (the fold committed every event), and ready again within seconds, not a metrics window later
            await().atMost(Duration.ofSeconds(120)).until(() -> committed(kafka.bootstrapServers(), topics) == runs * eventsPerRun);
            await().atMost(Duration.ofSeconds(10)).until(() -> get(base + "/readyz").statusCode() == 200);
        }
    }

    @Test
    void shouldFailLivenessWhenAStreamThreadDies() throws Exception {
        Topics topics = new Topics("writer-dies.");
        try (TestKafka kafka = TestKafka.start(); StatusWriter writer = start(kafka.bootstrapServers(), topics)) {
            String base = "http://127.0.0.1:" + writer.httpPort();
            await().atMost(Duration.ofSeconds(60)).until(() -> get(base + "/healthz").statusCode() == 200);

            // the fold's source topic gone: Kafka Streams fails the stream thread, which the writer's handlers do not answer
            TopicSettings.delete(kafka.bootstrapServers(), topics.diagnosisEvents().name());

            HttpResponse<String> dead = await().atMost(Duration.ofSeconds(90)).until(() -> get(base + "/healthz"), r -> r.statusCode() == 503);
            assertThat(dead.body()).contains("NotLive", "Kafka Streams is");
            assertThat(get(base + "/readyz").statusCode()).isEqualTo(503);
            // the process ends on it, so that the kubelet restarts it even without the probe
            assertThat(writer.stopped().get(60, TimeUnit.SECONDS)).isEqualTo(KafkaStreams.State.ERROR);
        }
    }

    /** The events topic's offset the fold committed. */
    private static long committed(String servers, Topics topics) throws Exception {
        String group = new KafkaNames(topics.prefix()).statusWriterApplicationId();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", servers))) {
            OffsetAndMetadata offset = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS)
                    .get(new TopicPartition(topics.diagnosisEvents().name(), 0));
            return offset == null ? 0 : offset.offset();
        }
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
