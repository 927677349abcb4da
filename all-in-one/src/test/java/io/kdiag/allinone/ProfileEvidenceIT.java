package io.kdiag.allinone;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.client.KdiagClient;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.nodeagent.NodeAgentConfig;
import io.kdiag.schemas.Evidence;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.schemas.avro.ProfilerResult;
import io.kdiag.sourcebridge.SourceBridge;
import io.kdiag.sourcebridge.SourceBridgeConfig;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.statuswriter.StatusWriterConfig;
import io.kdiag.testkit.TestKafka;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A profile outlives its node: the agent profiles a JVM (this one) with the real Java engine, restarts with the node's
 * files gone, and the status writer still serves the flame graph where the status's endpoint points, as HTML in a
 * sandbox, and the raw recording its link names, each as the type it was written with and matching its hash.
 */
class ProfileEvidenceIT {
    private static final String NODE = "profile-node";
    private static final Topics TOPICS = Topics.withDefaultPrefix();
    private static final Pattern RAW_LINK = Pattern.compile("href=\"([0-9a-f]{64}\\?[^\"]+)\"");

    @TempDir
    static Path state;
    static TestKafka kafka;
    static Map<String, Object> settings;
    static StatusWriter writer;
    static SourceBridge bridge;
    static NodeAgent agent;
    static KdiagClient client;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void startPipeline() throws Exception {
        kafka = TestKafka.start();
        settings = Map.of("bootstrap.servers", kafka.bootstrapServers());
        TopicAdmin.ensureTopics(settings, TOPICS, 3, (short) 1);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        writer = StatusWriter.start(StatusWriterConfig.from(config(Map.of("KDIAG_STATE_DIR", state.resolve("status-writer").toString()))),
                settings, registry);
        bridge = SourceBridge.start(SourceBridgeConfig.from(config(Map.of("KDIAG_STATE_DIR", state.resolve("bridge").toString()))),
                settings, registry);
        Files.writeString(state.resolve("policy.yaml"), """
                grants:
                - origins: [IngestTopic]
                  namespaces: [default]
                  profilers: [java]
                """);
        agent = startAgent();
        client = KdiagClient.builder().kafka(settings).build();
    }

    @AfterAll
    static void stopPipeline() {
        NodeLoss.closeAll(client, agent, bridge, writer, kafka);
    }

    private static NodeAgent startAgent() {
        return NodeAgent.start(NodeAgentConfig.from(config(Map.of("KDIAG_STATE_DIR", state.resolve("node/agent").toString(),
                "KDIAG_POLICY_FILE", state.resolve("policy.yaml").toString()))), settings, new SimpleMeterRegistry());
    }

    private static ConfigSource config(Map<String, String> own) {
        return NodeLoss.config(NODE, own);
    }

    @Test
    void shouldServeTheFlameGraphAndItsRawProfileAfterTheNodeLostItsFiles() throws Exception {
        Abnormal abnormal = ApiSerialization.abnormal("""
                apiVersion: diagnosis.netease.com/v1
                kind: Abnormal
                metadata: {name: profiled, namespace: default}
                spec:
                  nodeName: %s
                  profilers: [{name: cpu, type: InformationCollector, timeoutSeconds: 1, java: {type: CPU, pid: %d}}]
                  skipDiagnosis: true
                  skipRecovery: true
                """.formatted(NODE, ProcessHandle.current().pid()));
        AbnormalStatus status = client.awaitFinalStatus(client.publish(abnormal), Duration.ofSeconds(120)).orElseThrow();
        assertThat(status.getPhase()).isEqualTo(Phase.Succeeded);
        ProfilerResult profile = status.getProfilers().get(0);
        assertThat(profile.getError()).isNull();
        assertThat(profile.getEndpoint()).startsWith(Evidence.SERVED_AT);

        // the node loses everything it had: the agent stops, its state is gone, it starts afresh
        agent.close();
        NodeLoss.deleteTree(state.resolve("node"));
        agent = startAgent();

        URI pageUrl = URI.create("http://127.0.0.1:" + writer.httpPort() + profile.getEndpoint());
        HttpResponse<byte[]> page = HTTP.send(HttpRequest.newBuilder(pageUrl).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(csp -> assertThat(csp).startsWith("sandbox"));
        String html = new String(page.body(), StandardCharsets.UTF_8);
        assertThat(html).contains("cpu: Java CPU profile of pid " + ProcessHandle.current().pid(), "recording.jfr</a>");
        // content addressed: the page's hash is the hash of the page as served, its link included
        assertThat(sha256(page.body())).isEqualTo(Evidence.Reference.fromServedPath(TOPICS.evidence().name(), profile.getEndpoint()).sha256());

        Matcher link = RAW_LINK.matcher(html);
        assertThat(link.find()).as("the page links its raw profile").isTrue();
        URI rawUrl = pageUrl.resolve(link.group(1).replace("&amp;", "&"));
        HttpResponse<byte[]> raw = HTTP.send(HttpRequest.newBuilder(rawUrl).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(raw.statusCode()).isEqualTo(200);
        assertThat(raw.headers().firstValue("Content-Type")).hasValue("application/octet-stream");
        assertThat(Arrays.copyOf(raw.body(), 4)).as("a JFR recording").isEqualTo("FLR\0".getBytes(StandardCharsets.US_ASCII));
        assertThat(sha256(raw.body())).isEqualTo(link.group(1).substring(0, 64));

        // the raw profile is served as nothing but its own type: a URL asking for it as HTML is refused
        URI asHtml = URI.create(rawUrl.toString().replace("type=application%2Foctet-stream", "type=text%2Fhtml"));
        assertThat(asHtml).isNotEqualTo(rawUrl);
        assertThat(HTTP.send(HttpRequest.newBuilder(asHtml).build(), HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(404);
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
