package io.kdiag.allinone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kdiag.api.Annotations;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalStatus;
import io.kdiag.cli.KdiagCommand;
import io.kdiag.client.KdiagClient;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.model.StatusProjection;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.nodeagent.NodeAgentConfig;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.sourcebridge.SourceBridge;
import io.kdiag.sourcebridge.SourceBridgeConfig;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.statuswriter.StatusWriterConfig;
import io.kdiag.testkit.MockCluster;
import io.kdiag.testkit.TestKafka;
import io.kdiag.testkit.TestKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real pipeline (bridge, agent, status writer) on a real broker, and the kdiag commands that read it: an Abnormal
 * goes in, its status comes out, and watch, history, replay and re-diagnosis tell the same story from the events.
 */
class PipelineIT {
    private static final String NODE = "it-node-1";
    private static final Topics TOPICS = Topics.withDefaultPrefix();
    /** A process for process-match-diagnoser to find; nothing signals it (recovery is skipped). */
    private static final String MARKER = "kdiag-pipeline-it-marker";

    @TempDir
    static Path state;
    static TestKafka kafka;
    static Map<String, Object> settings;
    static StatusWriter writer;
    static NodeAgent agent;
    static SourceBridge bridge;
    static KdiagClient client;
    static Process marker;

    @BeforeAll
    static void startPipeline() throws Exception {
        marker = new ProcessBuilder("bash", "-c", "exec -a " + MARKER + " sleep 600").start();
        kafka = TestKafka.start();
        settings = Map.of("bootstrap.servers", kafka.bootstrapServers());
        TopicAdmin.ensureTopics(settings, TOPICS, 12, (short) 1);
        Map<String, String> env = new HashMap<>();
        env.put("KDIAG_NODE_NAME", NODE);
        env.put("KDIAG_SIGNING_KEY", TestKeys.signingKeyFile().toString());
        env.put("KDIAG_VERIFICATION_KEYS", TestKeys.verificationKeyFile().toString());
        env.put("KDIAG_POLICY_FILE", Files.writeString(state.resolve("policy.yaml"), """
                commandAllowlist: [{argv: [uname, -s]}]
                grants:
                - processors: ["kube-diagnoser/*"]
                  commands: [uname]
                """).toString());
        env.put("KDIAG_HTTP_PORT", "0");
        env.put("KDIAG_KUBERNETES", "off");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        writer = StatusWriter.start(StatusWriterConfig.from(config(env, "status-writer")), settings, registry);
        agent = NodeAgent.start(NodeAgentConfig.from(config(env, "agent")), settings, registry);
        bridge = SourceBridge.start(SourceBridgeConfig.from(config(env, "bridge")), settings, registry);
        client = KdiagClient.builder().kafka(settings).build();
    }

    @AfterAll
    static void stopPipeline() {
        for (AutoCloseable c : new AutoCloseable[] {client, bridge, agent, writer, kafka}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // keep closing the rest
            }
        }
        if (marker != null) {
            marker.destroyForcibly();
        }
    }

    private static ConfigSource config(Map<String, String> env, String dir) {
        Map<String, String> copy = new HashMap<>(env);
        copy.put("KDIAG_STATE_DIR", state.resolve(dir).toString());
        return ConfigSource.of(Map.of(), copy);
    }

    /** What a kdiag command printed and returned. */
    record Run(int exit, String out, String err) {
    }

    private static Run kdiag(String... args) {
        return kdiag(new StringWriter(), new StringWriter(), args);
    }

    private static Run kdiag(StringWriter out, StringWriter err, String... args) {
        List<String> all = new ArrayList<>(List.of("--home", state.resolve("home").toString(),
                "--bootstrap-server", kafka.bootstrapServers()));
        all.addAll(List.of(args));
        int exit = Kdiag.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute(all.toArray(String[]::new));
        return new Run(exit, out.toString(), err.toString());
    }

    private static Abnormal abnormal(String name, String pattern, boolean diagnose) {
        return ApiSerialization.abnormal("""
                apiVersion: diagnosis.netease.com/v1
                kind: Abnormal
                metadata: {name: %s, namespace: default}
                spec:
                  nodeName: %s
                  assignedInformationCollectors: [{name: process-collector, namespace: kube-diagnoser}]
                  assignedDiagnosers: [{name: process-match-diagnoser, namespace: kube-diagnoser}]
                  skipDiagnosis: %s
                  skipRecovery: true
                  context: {processMatch: {commandPattern: "%s"}}
                """.formatted(name, NODE, !diagnose, pattern));
    }

    private static io.kdiag.schemas.avro.AbnormalStatus run(Abnormal abnormal) {
        return awaitFinal(client.publish(abnormal));
    }

    private static io.kdiag.schemas.avro.AbnormalStatus awaitFinal(String uid) {
        Optional<io.kdiag.schemas.avro.AbnormalStatus> status = client.awaitFinalStatus(uid, Duration.ofSeconds(90));
        assertThat(status).as("final status of %s", uid).isPresent();
        return status.get();
    }

    @Test
    void shouldTakeARequestFromTheAbnormalsTopicToSucceeded() throws Exception {
        String uid = UUID.randomUUID().toString();
        AbnormalRequest request = AbnormalRequest.newBuilder()
                .setUid(uid).setNamespace("default").setName("collect").setNodeName(NODE)
                .setOrigin(Origin.CustomResource).setRequestedAt(Instant.now())
                .setSpec("{\"nodeName\":\"" + NODE + "\",\"source\":\"Custom\","
                        + "\"assignedInformationCollectors\":[{\"namespace\":\"kube-diagnoser\",\"name\":\"process-collector\"}],"
                        + "\"commandExecutors\":[{\"command\":[\"uname\",\"-s\"],\"type\":\"InformationCollector\"}],"
                        + "\"skipDiagnosis\":true,\"skipRecovery\":true}")
                .build();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(settings, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(TestKeys.signed(TOPICS.abnormals(), request)).get(30, TimeUnit.SECONDS);
        }

        io.kdiag.schemas.avro.AbnormalStatus snapshot = awaitFinal(uid);

        assertThat(snapshot.getPhase()).isEqualTo(Phase.Succeeded);
        AbnormalStatus status = StatusProjection.status(snapshot);
        assertThat(status.conditions).extracting(c -> c.type + "=" + c.status)
                .containsExactly("InformationCollected=True", "Identified=True", "Recovered=True");
        assertThat(status.identifiable).isTrue();
        assertThat(status.recoverable).isTrue();
        assertThat(status.startTime).isNotNull();
        assertThat(status.context).containsKey("processInformation");
        assertThat(status.commandExecutors).singleElement().satisfies(c -> {
            assertThat(c.stdout).contains("Linux");
            assertThat(c.error).isNull();
        });
        assertThat(client.statuses().values()).extracting(s -> s.getName()).contains("collect");
    }

    @Test
    void shouldTakeAManifestThroughTheIngestTopicToItsExpectedPhase() {
        io.kdiag.schemas.avro.AbnormalStatus snapshot = run(abnormal("nothing-to-identify", "^no-such-process$", true));

        assertThat(snapshot.getPhase()).isEqualTo(Phase.Failed);
        assertThat(StatusProjection.status(snapshot).conditions).extracting(c -> c.type + "=" + c.status)
                .containsExactly("InformationCollected=True", "Identified=False");
        assertThat(snapshot.getIdentifiable()).isFalse();
    }

    @Test
    void shouldWatchAnAbnormalFromBeforeItExistsUntilItEnds() throws Exception {
        StringWriter err = new StringWriter();
        CompletableFuture<Run> watch = CompletableFuture.supplyAsync(() -> kdiag(new StringWriter(), err, "watch", "watched", "--timeout", "90"));
        // watch says it waits once it looked and found nothing; publishing only then proves it picks the run up live
        await().atMost(Duration.ofSeconds(60)).until(() -> err.toString().contains("waiting for abnormal default/watched to appear"));
        client.publish(abnormal("watched", "^" + MARKER + " ", true));

        Run result = watch.get(120, TimeUnit.SECONDS);

        assertThat(result.exit()).as(result.err()).isZero();
        List<String> lines = result.out().lines().toList();
        assertThat(lines.get(0)).startsWith("abnormal default/watched (uid ").endsWith("on node " + NODE);
        assertThat(lines).anySatisfy(l -> assertThat(l).matches("\\d\\d:\\d\\d:\\d\\d  -  +abnormal  accepted on node it-node-1 .*"));
        assertThat(lines).anySatisfy(l -> assertThat(l).matches(".*  InformationCollection  process-collector  succeeded \\(\\d+ ms\\)"));
        assertThat(lines).anySatisfy(l -> assertThat(l).matches(".*  Diagnosis  +process-match-diagnoser  succeeded \\(\\d+ ms\\)"));
        assertThat(lines).anySatisfy(l -> assertThat(l).matches(".*  Recovery  +stage  skipped: skipRecovery is set.*"));
        assertThat(lines.get(lines.size() - 1)).isEqualTo("abnormal default/watched Succeeded");
    }

    @Test
    void shouldPrintTheHistoryOfTheNewestRunWithDurations() {
        run(abnormal("history", "^no-such-process$", false));
        String newest = run(abnormal("history", "^no-such-process$", false)).getUid();

        Run result = kdiag("history", "history");

        assertThat(result.exit()).as(result.err()).isZero();
        assertThat(result.out()).startsWith("abnormal default/history (uid " + newest + ") on node " + NODE)
                .containsPattern("SEQ +TIME +STAGE +STEP +TOOK +WHAT")
                .containsPattern("InformationCollection +process-collector +\\d+ ms +succeeded")
                .containsPattern("InformationCollection +stage +\\d+(\\.\\d)? m?s +succeeded")
                .containsPattern("Recovery +stage +\\S+ m?s +skipped: skipRecovery is set")
                .containsPattern("\\d+ events over ");
        Run missing = kdiag("history", "no-such-abnormal", "-n", "team-x");
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).contains("Error from server (NotFound): abnormals \"no-such-abnormal\" not found in namespace team-x");
    }

    @Test
    void shouldPrintAbnormalsInKubectlsFormats() {
        run(abnormal("get-formats", "^no-such-process$", false));

        Run json = kdiag("get", "abnormals", "-o", "json");
        Run one = kdiag("get", "abnormal", "get-formats", "-o", "json");
        Run names = kdiag("get", "abnormals", "-o", "jsonpath={range .items[*]}{.metadata.name}={.status.phase}{\"\\n\"}{end}");
        Run columns = kdiag("get", "abnormals", "-o", "custom-columns=NAME:.metadata.name,PHASE:.status.phase,DIAGNOSER:.status.diagnoser.name");
        Run unknown = kdiag("get", "abnormals", "-o", "go-template={{.items}}");

        assertThat(json.exit()).as(json.err()).isZero();
        Map<String, Object> list = ApiSerialization.jsonObject(json.out());
        assertThat(list).containsEntry("apiVersion", "v1").containsEntry("kind", "List");
        List<Object> listed = new ArrayList<>();
        ((List<?>) list.get("items")).forEach(item -> listed.add(((Map<?, ?>) ((Map<?, ?>) item).get("metadata")).get("name")));
        assertThat(listed).contains("get-formats");
        assertThat(ApiSerialization.jsonObject(one.out())).containsEntry("kind", "Abnormal");
        assertThat(names.out().lines()).contains("get-formats=Succeeded");
        assertThat(columns.out()).containsPattern("NAME +PHASE +DIAGNOSER\n").containsPattern("get-formats +Succeeded +<none>\n");
        assertThat(unknown.exit()).isEqualTo(1);
        assertThat(unknown.err()).contains("allowed formats are: custom-columns,json,jsonpath,wide,yaml");
    }

    @Test
    void shouldListOnlyTheVerdictsThatChangeWhenRediagnosing() {
        run(abnormal("rd-identified", "^" + MARKER + " ", true));
        run(abnormal("rd-unidentified", "^no-such-process$", true));
        run(abnormal("rd-not-run", "^" + MARKER + " ", false));

        Run same = kdiag("replay", "--rediagnose", "process-match-diagnoser", "--since", "1h");

        assertThat(same.exit()).as(same.err()).isEqualTo(KdiagCommand.DIFFERENCES);
        assertThat(same.out()).doesNotContain("default/rd-identified").doesNotContain("default/rd-unidentified")
                .containsPattern("default/rd-not-run +\\S+ +not run +identified: processMatchDiagnosis, signalRecovery")
                .contains("Re-ran process-match-diagnoser on");

        Run changed = kdiag("replay", "--rediagnose", "process-match-diagnoser", "--since", "1h",
                "--context-override", "processMatch={\"commandPattern\":\"^no-such-process$\"}");

        assertThat(changed.exit()).as(changed.err()).isEqualTo(KdiagCommand.DIFFERENCES);
        assertThat(changed.out())
                .containsPattern("default/rd-identified +\\S+ +identified: processMatchDiagnosis, signalRecovery +not identified \\(NoMatchingProcess\\)")
                .containsPattern("default/rd-not-run +\\S+ +not run +not identified \\(NoMatchingProcess\\)")
                .doesNotContain("default/rd-unidentified");

        Run recoverer = kdiag("replay", "--rediagnose", "signal-recoverer");
        assertThat(recoverer.exit()).isEqualTo(1);
        assertThat(recoverer.err()).contains("error: signal-recoverer is not a diagnoser");
    }

    @Test
    void shouldReplayEveryStatusAsFoldedAndRestoreTheResources() throws Exception {
        io.kdiag.schemas.avro.AbnormalStatus replayed = run(abnormal("replayed", "^" + MARKER + " ", true));
        try (MockCluster cluster = new MockCluster()) {
            KubernetesClient kube = cluster.client();
            Path kubeconfig = cluster.writeKubeconfig(state);

            Run before = kdiag("replay", "--kubeconfig", kubeconfig.toString());

            assertThat(before.exit()).as(before.err()).isEqualTo(KdiagCommand.DIFFERENCES);
            assertThat(before.out()).containsPattern("default/replayed +\\S+ +cr +\\(resource\\) +<missing> +Succeeded")
                    .doesNotContainPattern(" topic ")
                    .containsPattern("Status topic: \\d+ identical, 0 differ, 0 have no recorded events.")
                    .containsPattern("Resources: 0 identical, 0 differ, \\d+ missing, 0 belong to another run.");

            Run restore = kdiag("replay", "--kubeconfig", kubeconfig.toString(), "--restore");

            assertThat(restore.out()).containsPattern("Restored (\\d+) resources \\(\\1 created\\).");
            Abnormal resource = kube.resources(Abnormal.class).inNamespace("default").withName("replayed").get();
            assertThat(resource.getMetadata().getAnnotations()).containsEntry(Annotations.UID, replayed.getUid());
            assertThat(resource.getStatus().phase).isEqualTo("Succeeded");
            assertThat(resource.getStatus().diagnoser.name).isEqualTo("process-match-diagnoser");

            // a status topic and a resource that drifted from the events
            io.kdiag.schemas.avro.AbnormalStatus drifted = io.kdiag.schemas.avro.AbnormalStatus.newBuilder(replayed)
                    .setPhase(Phase.Failed).build();
            publishStatus(drifted);
            resource.getStatus().phase = "Failed";
            kube.resources(Abnormal.class).inNamespace("default").resource(resource).updateStatus();

            Run drift = kdiag("replay", "--kubeconfig", kubeconfig.toString());

            assertThat(drift.exit()).isEqualTo(KdiagCommand.DIFFERENCES);
            assertThat(drift.out()).containsPattern("default/replayed +\\S+ +topic +phase +Failed +Succeeded")
                    .containsPattern("default/replayed +\\S+ +cr +phase +Failed +Succeeded")
                    .containsPattern("Status topic: \\d+ identical, 1 differ")
                    .containsPattern("Resources: \\d+ identical, 1 differ, 0 missing");

            publishStatus(replayed);
            kdiag("replay", "--kubeconfig", kubeconfig.toString(), "--restore");
            Run after = kdiag("replay", "--kubeconfig", kubeconfig.toString());

            assertThat(after.exit()).as(after.out()).isZero();
            assertThat(after.out()).startsWith("No differences.");
        }
    }

    private static void publishStatus(io.kdiag.schemas.avro.AbnormalStatus status) throws Exception {
        try (KafkaProducer<String, io.kdiag.schemas.avro.AbnormalStatus> producer = new KafkaProducer<>(settings,
                new StringSerializer(), TOPICS.abnormalStatus().valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(TOPICS.abnormalStatus().name(), status.getUid(), status)).get(30, TimeUnit.SECONDS);
        }
    }
}
