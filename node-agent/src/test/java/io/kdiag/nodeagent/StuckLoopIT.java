package io.kdiag.nodeagent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.schemas.Topics;
import io.kdiag.testkit.TestKafka;
import io.kdiag.testkit.TestKeys;
import io.kdiag.testkit.TopicSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's liveness tells a stuck loop from an idle one: idle, {@code /healthz} stays 200; with an abnormal in hand
 * whose events cannot be written (their topic deleted), it fails once the stall timeout passed, and recovers when the
 * topic is back.
 */
class StuckLoopIT {
    private static final String NODE = "stuck-node";
    private static final Topics TOPICS = new Topics("agent-stuck.");
    private static final Duration STALL = Duration.ofSeconds(3);

    @TempDir
    Path stateDir;

    @Test
    void shouldFailLivenessWhileItsLoopMakesNoProgressWithWorkInHand() throws Exception {
        try (TestKafka kafka = TestKafka.start()) {
            String servers = kafka.bootstrapServers();
            TopicAdmin.ensureTopics(Map.of("bootstrap.servers", servers), TOPICS, 1, (short) 1);
            NodeAgent agent = NodeAgent.start(NodeAgentConfig.from(ConfigSource.of(Map.of("kdiag.node-name", NODE,
                    "kdiag.state-dir", stateDir.toString(), "kdiag.kubernetes", "off", "kdiag.http-port", "0",
                    "kdiag.topic-prefix", TOPICS.prefix(),
                    "kdiag.verification-keys", TestKeys.verificationKeyFile().toString(),
                    "kdiag.stall-timeout", STALL.toSeconds() + "s"), Map.of())),
                    new HashMap<>(Map.of("bootstrap.servers", servers)), new SimpleMeterRegistry());
            try (agent; KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", servers),
                    new ByteArraySerializer(), new ByteArraySerializer())) {
                String healthz = "http://127.0.0.1:" + agent.httpPort() + "/healthz";
                // idle for longer than the stall timeout: alive
                await().pollDelay(STALL.multipliedBy(2)).atMost(STALL.multipliedBy(4)).until(() -> get(healthz).statusCode() == 200);

                TopicSettings.delete(servers, TOPICS.diagnosisEvents().name());
                AbnormalSpec spec = new AbnormalSpec();
                spec.nodeName = NODE;
                producer.send(TestKeys.signed(TOPICS.abnormals(), Fixtures.request("wedged", NODE, spec))).get(30, TimeUnit.SECONDS);

                HttpResponse<String> stuck = await().atMost(Duration.ofSeconds(60)).until(() -> get(healthz), r -> r.statusCode() == 503);
                assertThat(stuck.body()).contains("NotLive", "the agent's consumer loop made no progress");
                assertThat(get("http://127.0.0.1:" + agent.httpPort() + "/readyz").statusCode()).isEqualTo(503);

                TopicAdmin.ensureTopics(Map.of("bootstrap.servers", servers), TOPICS, 1, (short) 1);
                await().atMost(Duration.ofSeconds(90)).until(() -> get(healthz).statusCode() == 200);
            }
        }
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
