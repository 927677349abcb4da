package io.kdiag.allinone;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.Diagnoser;
import io.kdiag.api.v1.ProcessorSpec;
import io.kdiag.cli.KdiagCommand;
import io.kdiag.client.KdiagClient;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.nodeagent.NodeAgentConfig;
import io.kdiag.schemas.Evidence;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.sourcebridge.SourceBridge;
import io.kdiag.sourcebridge.SourceBridgeConfig;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.statuswriter.StatusWriterConfig;
import io.kdiag.testkit.FakeProc;
import io.kdiag.testkit.MockCluster;
import io.kdiag.testkit.TestKafka;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Evidence that lasts: an abnormal whose collected processes are several MiB keeps them on the evidence topic. After
 * its agent restarted with the node's local files gone, the history still replays to the same status, the status
 * writer still serves the evidence, {@code kdiag context} reads it back, and the abnormal re-diagnoses from the
 * recorded evidence alone, with the value diff: the built-in diagnoser with another pattern, and a registered diagnoser
 * the recorded run never called.
 */
class EvidenceIT {
    private static final String NODE = "evidence-node";
    private static final Topics TOPICS = Topics.withDefaultPrefix();
    private static final int PROCESSES = 4000;
    /** A long command line per process, so the list is several MiB, as on a busy node. */
    private static final String ARGUMENTS = "--flag=" + "x".repeat(900);

    @TempDir
    static Path state;
    static TestKafka kafka;
    static Map<String, Object> settings;
    static StatusWriter writer;
    static SourceBridge bridge;
    static NodeAgent agent;
    static KdiagClient client;
    static HttpServer counter;

    @BeforeAll
    static void startPipeline() throws Exception {
        kafka = TestKafka.start();
        settings = Map.of("bootstrap.servers", kafka.bootstrapServers());
        TopicAdmin.ensureTopics(settings, TOPICS, 3, (short) 1);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        writer = StatusWriter.start(StatusWriterConfig.from(config("status-writer")), settings, registry);
        bridge = SourceBridge.start(SourceBridgeConfig.from(config("bridge")), settings, registry);
        FakeProc proc = new FakeProc(hostRoot());
        for (int pid = 1000; pid < 1000 + PROCESSES; pid++) {
            String command = (pid % 2 == 0 ? "kdiag-fixture-even" : "kdiag-fixture-odd") + "\0" + pid + "\0" + ARGUMENTS;
            proc.process(pid, "fixture", 'S', 1, 10, 5, 0, 100, command, "VmRSS:\t1024 kB\n");
        }
        agent = startAgent();
        client = KdiagClient.builder().kafka(settings).build();
        counter = processCounter();
    }

    @AfterAll
    static void stopPipeline() {
        if (counter != null) {
            counter.stop(0);
        }
        NodeLoss.closeAll(client, agent, bridge, writer, kafka);
    }

    private static Path hostRoot() {
        return state.resolve("node/host");
    }

    private static NodeAgent startAgent() {
        return NodeAgent.start(NodeAgentConfig.from(NodeLoss.config(NODE, Map.of("KDIAG_HOST_ROOT", hostRoot().toString(),
                "KDIAG_STATE_DIR", state.resolve("node/agent").toString()))), settings, new SimpleMeterRegistry());
    }

    private static ConfigSource config(String dir) {
        return NodeLoss.config(NODE, Map.of("KDIAG_STATE_DIR", state.resolve(dir).toString()));
    }

    /**
     * A diagnoser registered in the cluster, speaking KubeDiag's protocol: it counts the processes it is sent and answers
     * without them (a reply must stay under the protocol's 2 MiB).
     */
    private static HttpServer processCounter() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/count", exchange -> {
            Abnormal abnormal = ApiSerialization.abnormal(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            Object processes = abnormal.getStatus().context.remove("processInformation");
            abnormal.getStatus().context.put("processCount", processes instanceof List<?> list ? list.size() : -1);
            byte[] answer = ApiSerialization.json(abnormal).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        server.start();
        return server;
    }

    private record Run(int exit, String out, String err) {
    }

    private static Run kdiag(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of("--home", state.resolve("home").toString(), "--bootstrap-server", kafka.bootstrapServers()));
        all.addAll(List.of(args));
        int exit = Kdiag.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(all.toArray(String[]::new));
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void shouldReplayAndRediagnoseFromEvidenceThatOutlivesTheNodesFiles() throws Exception {
        Abnormal abnormal = ApiSerialization.abnormal("""
                apiVersion: diagnosis.netease.com/v1
                kind: Abnormal
                metadata: {name: busy-node, namespace: default}
                spec:
                  nodeName: %s
                  assignedInformationCollectors: [{name: process-collector, namespace: kube-diagnoser}]
                  assignedDiagnosers: [{name: process-match-diagnoser, namespace: kube-diagnoser}]
                  skipRecovery: true
                  context: {processMatch: {commandPattern: "^kdiag-fixture-even 1000 "}}
                """.formatted(NODE));
        AbnormalStatus recorded = client.awaitFinalStatus(client.publish(abnormal), Duration.ofSeconds(120)).orElseThrow();
        assertThat(recorded.getPhase()).isEqualTo(Phase.Succeeded);

        // the collected processes are on the evidence topic; the history holds only where
        Map<String, Object> collected = ApiSerialization.jsonObject(client.history(recorded.getUid()).stream()
                .map(e -> e.getPayload() instanceof ProcessorFinished p ? p.getContextUpdates() : null)
                .filter(u -> u != null && u.contains("processInformation")).findFirst().orElseThrow());
        Evidence.Reference reference = Evidence.Reference.fromContextValue(collected.get("processInformation")).orElseThrow();
        assertThat(reference.bytes()).isGreaterThan(3L * 1024 * 1024);
        assertThat(reference.offsets()).hasSizeGreaterThan(6);

        // the node loses everything it had: the agent stops, its state and the host's files are gone, it starts afresh
        agent.close();
        NodeLoss.deleteTree(state.resolve("node"));
        Files.createDirectories(hostRoot());
        agent = startAgent();

        Run replay = kdiag("replay");
        assertThat(replay.exit()).as(replay.out() + replay.err()).isZero();
        assertThat(replay.out()).startsWith("No differences.");

        // served by the status writer from Kafka, as the reference in the status says
        HttpResponse<byte[]> served = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + writer.httpPort() + "/api/v1/evidence/" + reference.sha256() + "?partition=" + reference.partition() + "&offsets="
                + reference.offsets().stream().map(String::valueOf).collect(Collectors.joining(",")) + "&bytes=" + reference.bytes()))
                .build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(served.statusCode()).isEqualTo(200);
        assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(served.body()))).isEqualTo(reference.sha256());

        // and read back by the CLI from Kafka, whole, though the diagnoser dropped it from the context
        Run context = kdiag("context", "busy-node", "processInformation");
        assertThat(context.exit()).as(context.err()).isZero();
        assertThat(context.err()).contains("processInformation was removed from the context later; the value kube-diagnoser/process-collector wrote");
        assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(context.out().strip().getBytes(StandardCharsets.UTF_8))))
                .isEqualTo(reference.sha256());
        assertThat(ApiSerialization.jsonObject("{\"v\":" + context.out() + "}").get("v")).asList().hasSize(PROCESSES);

        // the same diagnoser on the recorded evidence with another pattern: the same verdict, other values
        Run pattern = kdiag("replay", "--rediagnose", "process-match-diagnoser", "--since", "1h",
                "--context-override", "processMatch={\"commandPattern\":\"^kdiag-fixture-odd 1001 \"}");
        assertThat(pattern.exit()).as(pattern.out() + pattern.err()).isEqualTo(KdiagCommand.DIFFERENCES);
        assertThat(pattern.out())
                .containsPattern("default/busy-node +\\S+ +identified: processMatchDiagnosis, signalRecovery +identified: processMatchDiagnosis, signalRecovery")
                .contains("processMatchDiagnosis[0].pid: 1000 → 1001")
                .contains("processMatchDiagnosis[0].command[0]: \"kdiag-fixture-even\" → \"kdiag-fixture-odd\"")
                .contains("signalRecovery[0].pid: 1000 → 1001")
                .contains("1 differ, 0 lacked an input");

        // a registered diagnoser the recorded run never called, over KubeDiag's protocol, on every recorded process
        try (MockCluster cluster = new MockCluster()) {
            Diagnoser registration = new Diagnoser();
            registration.setMetadata(new ObjectMetaBuilder().withNamespace("team").withName("process-counter").build());
            ProcessorSpec spec = new ProcessorSpec();
            spec.ip = "127.0.0.1";
            spec.port = new IntOrString(counter.getAddress().getPort());
            spec.path = "/count";
            registration.setSpec(spec);
            cluster.client().resource(registration).create();

            Run registered = kdiag("replay", "--rediagnose", "team/process-counter", "--since", "1h",
                    "--kubeconfig", cluster.writeKubeconfig(state).toString());

            assertThat(registered.exit()).as(registered.out() + registered.err()).isEqualTo(KdiagCommand.DIFFERENCES);
            assertThat(registered.out())
                    .containsPattern("default/busy-node +\\S+ +not run +identified: processCount")
                    .contains("processCount: added " + PROCESSES);
        }
    }
}
