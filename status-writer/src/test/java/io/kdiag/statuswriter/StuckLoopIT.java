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

import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.schemas.Topic;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.testkit.Events;
import io.kdiag.testkit.TestKafka;
import io.kdiag.testkit.TopicSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status writer's liveness tells a stuck stream thread from an idle one: idle, {@code /healthz} stays 200; with
 * events to fold whose status cannot be written (the status topic deleted), the thread blocks in the write and stops
 * polling, and {@code /healthz} and {@code /readyz} fail once the stall timeout passed; they recover when the topic is
 * back.
 */
class StuckLoopIT {
    private static final Topics TOPICS = new Topics("writer-stuck.");
    private static final Duration STALL = Duration.ofSeconds(3);

    @TempDir
    Path stateDir;

    @Test
    void shouldFailLivenessWhileAStreamThreadCannotWriteWhatItFolded() throws Exception {
        try (TestKafka kafka = TestKafka.start()) {
            String servers = kafka.bootstrapServers();
            TopicAdmin.ensureTopics(Map.of("bootstrap.servers", servers), TOPICS, 1, (short) 1);
            StatusWriterConfig config = StatusWriterConfig.from(ConfigSource.of(Map.of("kdiag.state-dir", stateDir.toString(),
                    "kdiag.topic-prefix", TOPICS.prefix(), "kdiag.http-port", "0", "kdiag.kubernetes", "off",
                    "kdiag.stall-timeout", STALL.toSeconds() + "s"), Map.of()));
            Topic<String, DiagnosisEvent> events = TOPICS.diagnosisEvents();
            try (StatusWriter writer = StatusWriter.start(config, Map.of("bootstrap.servers", servers), new SimpleMeterRegistry());
                 KafkaProducer<String, DiagnosisEvent> producer = new KafkaProducer<>(Map.of("bootstrap.servers", servers),
                         events.keySerde().serializer(), events.valueSerde().serializer())) {
                String base = "http://127.0.0.1:" + writer.httpPort();
                await().atMost(Duration.ofSeconds(60)).until(() -> get(base + "/readyz").statusCode() == 200);
                // idle for longer than the stall timeout: alive
                await().pollDelay(STALL.multipliedBy(2)).atMost(STALL.multipliedBy(4)).until(() -> get(base + "/healthz").statusCode() == 200);

                TopicSettings.delete(servers, TOPICS.abnormalStatus().name());
                for (DiagnosisEvent event : Events.seedRun("wedged")) {
                    producer.send(new ProducerRecord<>(events.name(), event.getNodeName(), event));
                }
                producer.flush();

                HttpResponse<String> stuck = await().atMost(Duration.ofSeconds(60)).until(() -> get(base + "/healthz"),
                        r -> r.statusCode() == 503);
                assertThat(stuck.body()).contains("NotLive", "has not polled");
                assertThat(get(base + "/readyz").statusCode()).isEqualTo(503);

                TopicAdmin.ensureTopics(Map.of("bootstrap.servers", servers), TOPICS, 1, (short) 1);
                await().atMost(Duration.ofSeconds(150)).until(() -> get(base + "/healthz").statusCode() == 200);
            }
        }
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
