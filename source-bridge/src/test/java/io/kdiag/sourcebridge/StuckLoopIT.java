package io.kdiag.sourcebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.schemas.Topics;
import io.kdiag.testkit.TestKafka;
import io.kdiag.testkit.TestKeys;
import io.kdiag.testkit.TopicSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * The bridge's liveness tells a stuck forwarding loop from an idle one: idle, {@code /healthz} stays 200; with a request
 * in hand that cannot be written (its topic deleted), it fails once the stall timeout passed, and recovers when the topic
 * is back.
 */
class StuckLoopIT {
    private static final Topics TOPICS = new Topics("bridge-stuck.");
    private static final Duration STALL = Duration.ofSeconds(3);

    @Test
    void shouldFailLivenessWhileTheGateMakesNoProgressWithWorkInHand() throws Exception {
        try (TestKafka kafka = TestKafka.start()) {
            String servers = kafka.bootstrapServers();
            TopicAdmin.ensureTopics(Map.of("bootstrap.servers", servers), TOPICS, 1, (short) 1);
            SourceBridgeConfig config = SourceBridgeConfig.from(ConfigSource.of(Map.of("kdiag.topic-prefix", TOPICS.prefix(),
                    "kdiag.http-port", "0", "kdiag.kubernetes", "off", "kdiag.stall-timeout", STALL.toSeconds() + "s",
                    "kdiag.signing-key", TestKeys.signingKeyFile().toString()), Map.of()));
            try (SourceBridge bridge = SourceBridge.start(config, Map.of("bootstrap.servers", servers), new SimpleMeterRegistry());
                 KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", servers),
                         new ByteArraySerializer(), new ByteArraySerializer())) {
                String base = "http://127.0.0.1:" + bridge.httpPort();
                await().pollDelay(STALL.multipliedBy(2)).atMost(STALL.multipliedBy(4)).until(() -> get(base + "/healthz").statusCode() == 200);
                assertThat(get(base + "/readyz").statusCode()).isEqualTo(200);

                TopicSettings.delete(servers, TOPICS.abnormals().name());
                producer.send(new ProducerRecord<>(TOPICS.abnormalRequests().name(),
                        Samples.jsonRequest("wedged", "node-a").getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);

                HttpResponse<String> stuck = await().atMost(Duration.ofSeconds(60))
                        .until(() -> get(base + "/healthz"), r -> r.statusCode() == 503);
                assertThat(stuck.body()).contains("NotLive", "the gate's forwarding loop made no progress");
                assertThat(get(base + "/readyz").statusCode()).isEqualTo(503);

                TopicAdmin.ensureTopics(Map.of("bootstrap.servers", servers), TOPICS, 1, (short) 1);
                await().atMost(Duration.ofSeconds(150)).until(() -> get(base + "/healthz").statusCode() == 200);
                assertThat(Committed.awaitSteady(servers, TOPICS.abnormals().name(), 1, 1)).extracting(r -> r.getName())
                        .containsExactly("wedged");
            }
        }
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
