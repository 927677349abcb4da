package io.kdiag.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.CommandExecutorSpec;
import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.client.KdiagClient;
import io.kdiag.common.kafka.KafkaAcls.Role;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.CommandFinished;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.ProfilerFinished;
import io.kdiag.sourcebridge.SourceBridge;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.testkit.TestKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every rule of the node agent's policy, end to end: an abnormal asks for forbidden work, the agent refuses it with a
 * reason naming the rule, and the refusal shows in the events and the folded status. CR-origin requests are written to
 * the abnormals topic as the bridge writes them; ingest requests go through the bridge.
 */
class PrivilegeIT {
    private static final String NODE = "privilege-node";
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path dir;
    static SecuredKafka kafka;
    static StatusWriter writer;
    static NodeAgent agent;
    static SourceBridge bridge;
    static KdiagClient client;
    static KafkaProducer<byte[], byte[]> producer;
    static Topics topics = Topics.withDefaultPrefix();

    @BeforeAll
    static void startPipeline() throws Exception {
        System.setProperty(SideEffects.ENV, dir.resolve("side-effects").toString());
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, """
                commandAllowlist: [{prefix: [uname]}, {prefix: [id]}]
                allowedSignals: [15]
                grants:
                - origins: [CustomResource]
                  namespaces: ["team-*"]
                  processors: ["kube-diagnoser/*"]
                  commands: [uname]
                  profilers: [go]
                - origins: [IngestTopic]
                  processors: [kube-diagnoser/reliability-collector]
                """);
        kafka = SecuredKafka.startWithAcls(dir.resolve("broker"), topics, 12);
        writer = Components.writer(kafka.settings(Role.STATUS_WRITER), dir.resolve("writer"), null);
        agent = Components.agent(kafka.settings(Role.NODE_AGENT), dir.resolve("agent"), NODE, "kdiag.policy-file", policy.toString());
        bridge = Components.bridge(kafka.settings(Role.SOURCE_BRIDGE), new SimpleMeterRegistry());
        client = KdiagClient.builder().kafka(kafka.settings(Role.CLI)).build();
        // writes requests as the bridge would, signed with its key: the policy, not the gate, is under test
        producer = new KafkaProducer<>(kafka.settings(Role.SOURCE_BRIDGE), new ByteArraySerializer(), new ByteArraySerializer());
    }

    @AfterAll
    static void stopPipeline() {
        for (AutoCloseable c : new AutoCloseable[] {producer, client, bridge, agent, writer, kafka}) {
            try {
                c.close();
            } catch (Exception e) {
                // keep closing the rest
            }
        }
        System.clearProperty(SideEffects.ENV);
    }

    /** A request as the bridge forwards an Abnormal CR of {@code namespace}; returns its uid once it ended. */
    private static AbnormalStatus runAsCustomResource(String namespace, AbnormalSpec spec) throws Exception {
        spec.nodeName = NODE;
        String uid = UUID.randomUUID().toString();
        AbnormalRequest request = AbnormalRequest.newBuilder().setUid(uid).setNamespace(namespace).setName("privilege-" + uid.substring(0, 8))
                .setNodeName(NODE).setOrigin(Origin.CustomResource).setRequestedAt(Instant.now()).setSpec(ApiSerialization.json(spec))
                .setLabels(Map.of()).build();
        producer.send(TestKeys.signed(topics.abnormals(), request)).get(30, TimeUnit.SECONDS);
        return awaitFinal(uid);
    }

    private static AbnormalStatus awaitFinal(String uid) {
        return client.awaitFinalStatus(uid, WAIT).orElseThrow(() -> new AssertionError("no final status of " + uid));
    }

    private static List<Object> payloads(String uid) {
        return client.history(uid, NODE).stream().map(DiagnosisEvent::getPayload).toList();
    }

    private static ProcessorFinished finished(String uid, String processor) {
        return payloads(uid).stream().filter(p -> p instanceof ProcessorFinished f && f.getProcessor().getName().equals(processor))
                .map(ProcessorFinished.class::cast).findFirst().orElseThrow(() -> new AssertionError(processor + " did not finish"));
    }

    private static CommandExecutorSpec command(String... argv) {
        CommandExecutorSpec command = new CommandExecutorSpec();
        command.command = List.of(argv);
        command.type = "InformationCollector";
        return command;
    }

    @Test
    void shouldRefuseCommandsThatAreNotAllowlistedOrNotGranted() throws Exception {
        AbnormalSpec spec = new AbnormalSpec();
        spec.commandExecutors = List.of(command("uname", "-s"), command("id"), command("sh", "-c", "echo owned"));
        spec.skipDiagnosis = true;
        spec.skipRecovery = true;

        AbnormalStatus status = runAsCustomResource("team-a", spec);

        List<CommandFinished> commands = payloads(status.getUid()).stream().filter(CommandFinished.class::isInstance)
                .map(CommandFinished.class::cast).toList();
        assertThat(commands).extracting(c -> c.getCommand().get(0)).containsExactly("uname", "id", "sh");
        assertThat(commands.get(0).getError()).isNull();
        assertThat(commands.get(1).getError()).startsWith("Forbidden: ").contains("id");
        assertThat(commands.get(2).getError()).startsWith("Forbidden: ").contains("sh");
        assertThat(commands.get(2).getStdout()).doesNotContain("owned");
        assertThat(status.getCommandExecutors()).hasSize(3);
    }

    @Test
    void shouldNeverSignalPidOneTheAgentOrItsAncestors() throws Exception {
        for (long pid : List.of(1L, ProcessHandle.current().pid(), ProcessHandle.current().parent().orElseThrow().pid())) {
            AbnormalStatus status = runAsCustomResource("team-a", signal(pid, 15));

            assertThat(status.getPhase()).isEqualTo(Phase.Failed);
            ProcessorFinished refusal = finished(status.getUid(), "signal-recoverer");
            assertThat(refusal.getReason()).isEqualTo("Forbidden");
            assertThat(refusal.getMessage()).contains("pid " + pid).contains("never signalled");
        }
        assertThat(ProcessHandle.current().isAlive()).isTrue();
    }

    @Test
    void shouldSendOnlyAllowedSignals() throws Exception {
        Process target = new ProcessBuilder("sleep", "600").start();
        try {
            AbnormalStatus refused = runAsCustomResource("team-a", signal(target.pid(), 9));

            assertThat(refused.getPhase()).isEqualTo(Phase.Failed);
            assertThat(finished(refused.getUid(), "signal-recoverer").getMessage()).contains("signal 9 is not in the allowedSignals [15]");
            assertThat(target.isAlive()).as("the target of a refused signal").isTrue();

            AbnormalStatus allowed = runAsCustomResource("team-a", signal(target.pid(), 15));

            assertThat(allowed.getPhase()).isEqualTo(Phase.Succeeded);
            assertThat(target.waitFor(30, TimeUnit.SECONDS)).as("the target of an allowed signal ended").isTrue();
        } finally {
            target.destroyForcibly();
        }
    }

    private static AbnormalSpec signal(long pid, int signal) {
        AbnormalSpec spec = new AbnormalSpec();
        spec.skipInformationCollection = true;
        spec.skipDiagnosis = true;
        spec.assignedRecoverers = List.of(Components.builtin("signal-recoverer"));
        spec.context = Map.of("signalRecovery", List.of(Map.of("pid", pid, "signal", signal)));
        return spec;
    }

    @Test
    void shouldRefuseProcessorsNotGrantedToTheNamespace() throws Exception {
        AbnormalSpec spec = new AbnormalSpec();
        spec.assignedInformationCollectors = List.of(SideEffects.COLLECTOR_REF);
        spec.skipRecovery = true;

        AbnormalStatus status = runAsCustomResource("default", spec);

        assertThat(status.getPhase()).isEqualTo(Phase.Failed);
        ProcessorFinished refusal = finished(status.getUid(), SideEffects.COLLECTOR);
        assertThat(refusal.getReason()).isEqualTo("Forbidden");
        assertThat(refusal.getMessage()).contains("kube-diagnoser/" + SideEffects.COLLECTOR).contains("namespace default")
                .contains("CustomResource");
        assertThat(SideEffects.runs(dir.resolve("side-effects"))).noneMatch(r -> r.startsWith(status.getUid()));
    }

    @Test
    void shouldGiveIngestTopicAbnormalsOnlyWhatThePolicyGrantsToIngestTopic() {
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = NODE;
        spec.assignedInformationCollectors = List.of(SideEffects.COLLECTOR_REF, Components.builtin("process-collector"));
        spec.assignedRecoverers = List.of(Components.builtin("signal-recoverer"));
        spec.commandExecutors = List.of(command("uname"));
        spec.context = Map.of("signalRecovery", List.of());
        String uid = client.publish(Components.abnormal("ingest-privilege", "team-a", spec));

        AbnormalStatus status = awaitFinal(uid);

        assertThat(status.getOrigin()).isEqualTo(Origin.IngestTopic);
        assertThat(finished(uid, SideEffects.COLLECTOR).getSucceeded()).isTrue();
        assertThat(finished(uid, "process-collector").getReason()).isEqualTo("Forbidden");
        assertThat(finished(uid, "signal-recoverer").getReason()).isEqualTo("Forbidden");
        assertThat(finished(uid, "signal-recoverer").getMessage()).contains("IngestTopic");
        assertThat(status.getCommandExecutors()).singleElement().satisfies(c -> assertThat(c.getError()).startsWith("Forbidden: "));
        assertThat(status.getPhase()).isEqualTo(Phase.Failed);
    }

    @Test
    void shouldRefuseProfilersNotGranted() throws Exception {
        AbnormalSpec spec = new AbnormalSpec();
        ProfilerSpec profiler = new ProfilerSpec();
        profiler.name = "heap";
        profiler.type = "InformationCollector";
        profiler.java = new ProfilerSpec.JavaProfilerSpec();
        profiler.java.pid = (int) ProcessHandle.current().pid();
        spec.profilers = List.of(profiler);
        spec.skipDiagnosis = true;
        spec.skipRecovery = true;

        AbnormalStatus status = runAsCustomResource("team-a", spec);

        ProfilerFinished refusal = payloads(status.getUid()).stream().filter(ProfilerFinished.class::isInstance)
                .map(ProfilerFinished.class::cast).findFirst().orElseThrow();
        assertThat(refusal.getName()).isEqualTo("heap");
        assertThat(refusal.getEndpoint()).isNull();
        assertThat(refusal.getError()).startsWith("Forbidden: ").contains("java");
    }
}
