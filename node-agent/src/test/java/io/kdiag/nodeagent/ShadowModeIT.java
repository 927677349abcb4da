package io.kdiag.nodeagent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.NamespacedName;
import io.kdiag.client.EventLog;
import io.kdiag.client.KdiagClient;
import io.kdiag.client.ShadowReport;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.model.ShadowVerdict;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.ShadowFinished;
import io.kdiag.testkit.TestKafka;
import io.kdiag.testkit.TestKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shadow mode end to end, on a broker: an agent whose policy runs signal-recoverer and a stricter diagnoser in shadow
 * beside the chains of process-match-diagnoser. The real chain diagnoses and skips recovery; the shadow recoverer
 * never signals the processes it names (they are still alive), and the shadow report, read from the events as
 * {@code kdiag shadow report} reads them, says it would have sent exactly those signals and compares the shadow
 * diagnoser's verdicts with the real one's.
 */
class ShadowModeIT {
    private static final Topics TOPICS = new Topics("kdiag.");
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String POLICY = """
            grants: [{processors: ["*"]}]
            shadows:
              - recoverer: kube-diagnoser/signal-recoverer
                beside: [kube-diagnoser/process-match-diagnoser]
              - diagnoser: kube-diagnoser/anchored-match-diagnoser
                beside: [kube-diagnoser/process-match-diagnoser]
            """;

    @TempDir
    Path stateDir;
    private TestKafka kafka;
    private NodeAgent agent;
    private SimpleMeterRegistry registry;
    private KafkaProducer<byte[], byte[]> abnormals;
    private KdiagClient client;
    private final List<Process> children = new ArrayList<>();
    private final String node = "node-" + UUID.randomUUID().toString().substring(0, 8);

    @BeforeEach
    void start() throws Exception {
        kafka = TestKafka.start();
        Map<String, Object> props = new HashMap<>(Map.of("bootstrap.servers", kafka.bootstrapServers()));
        TopicAdmin.ensureTopics(props, TOPICS, 3, (short) 1);
        abnormals = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
        client = KdiagClient.builder().bootstrapServers(kafka.bootstrapServers()).build();
        Path policy = Files.writeString(stateDir.resolve("policy.yaml"), POLICY);
        registry = new SimpleMeterRegistry();
        agent = NodeAgent.start(NodeAgentConfig.from(ConfigSource.of(Map.of(
                "kdiag.node-name", node,
                "kdiag.state-dir", stateDir.resolve("agent").toString(),
                "kdiag.verification-keys", TestKeys.verificationKeyFile().toString(),
                "kdiag.policy-file", policy.toString(),
                "kdiag.kubernetes", "off",
                "kdiag.http-port", "0",
                "kdiag.advertise-address", "127.0.0.1"), Map.of())), props, registry);
    }

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.close();
        }
        children.forEach(Process::destroyForcibly);
        client.close();
        abnormals.close();
        kafka.close();
    }

    /** A sleeping child whose command line is {@code sleep <marker>}. */
    private Process sleeper(String marker) throws Exception {
        Process child = new ProcessBuilder("sleep", marker).start();
        children.add(child);
        return child;
    }

    /** Collects processes, matches {@code pattern} with process-match-diagnoser, skips recovery. */
    private void submit(String uid, String pattern) throws Exception {
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = node;
        spec.assignedInformationCollectors = List.of(new NamespacedName("kube-diagnoser", "process-collector"));
        spec.assignedDiagnosers = List.of(new NamespacedName("kube-diagnoser", "process-match-diagnoser"));
        spec.skipRecovery = true;
        spec.context = Map.of("processMatch", Map.of("commandPattern", pattern));
        abnormals.send(TestKeys.signed(TOPICS.abnormals(), node, Fixtures.request(uid, node, spec))).get(30, TimeUnit.SECONDS);
    }

    private static String marker() {
        return "300." + ThreadLocalRandom.current().nextInt(100_000_000, 999_999_999);
    }

    @Test
    void shouldReportWhatAShadowRecovererWouldHaveDoneWithoutDoingItAndCompareAShadowDiagnoser() throws Exception {
        Instant since = Instant.now().minusSeconds(1);
        String markerA = marker();
        String markerB = marker();
        Process a = sleeper(markerA);
        Process b = sleeper(markerB);
        // A: both diagnosers identify it (the pattern matches from the start); B: only the unanchored real one does;
        // C: neither, so recovery is never reached
        submit("shadow-a", "sleep " + markerA.replace(".", "\\."));
        submit("shadow-b", markerB.replace(".", "\\."));
        submit("shadow-c", "no-such-process-" + markerA);

        await().atMost(WAIT).until(() -> {
            EventLog log = EventLog.read(client);
            return shadows(log, "shadow-a").size() == 2 && shadows(log, "shadow-b").size() == 2 && shadows(log, "shadow-c").size() == 1;
        });
        EventLog log = EventLog.read(client);

        // the real chain ran alone: no recoverer started, the statuses are what process-match-diagnoser made them
        for (String uid : List.of("shadow-a", "shadow-b", "shadow-c")) {
            assertThat(log.events(uid)).extracting(e -> Fixtures.describe(e.getPayload())).doesNotContain("ProcessorStarted signal-recoverer");
        }
        assertThat(log.folds().get("shadow-a").current().getIdentifiable()).isTrue();
        assertThat(log.folds().get("shadow-a").current().getContext()).doesNotContain("anchored");
        assertThat(log.folds().get("shadow-c").current().getIdentifiable()).isFalse();
        // no side effect: the processes the shadow recoverer would have sent SIGTERM are alive
        assertThat(a.waitFor(500, TimeUnit.MILLISECONDS)).as("process A").isFalse();
        assertThat(b.isAlive()).as("process B").isTrue();

        ShadowReport recoverer = ShadowReport.of(log, "kube-diagnoser/signal-recoverer", since, 10);
        assertThat(recoverer.runs()).isEqualTo(2);
        assertThat(recoverer.wouldHaveActed()).isEqualTo(2);
        assertThat(recoverer.disagreed()).as("the real chain skipped recovery").isEqualTo(2);
        assertThat(recoverer.disagreements()).extracting(ShadowReport.Comparison::name, ShadowReport.Comparison::shadowDetail,
                ShadowReport.Comparison::realDetail).containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("abnormal-shadow-a",
                                "would act: {\"signals\":[{\"pid\":" + a.pid() + ",\"signal\":15}]}", "skipped: skipRecovery is set"),
                        org.assertj.core.groups.Tuple.tuple("abnormal-shadow-b",
                                "would act: {\"signals\":[{\"pid\":" + b.pid() + ",\"signal\":15}]}", "skipped: skipRecovery is set"));

        ShadowReport diagnoser = ShadowReport.of(log, "anchored-match-diagnoser", since, 10);
        assertThat(diagnoser.runs()).isEqualTo(3);
        assertThat(diagnoser.agreed()).as("A: both identified; C: neither").isEqualTo(2);
        assertThat(diagnoser.disagreed()).isEqualTo(1);
        assertThat(diagnoser.identified()).isEqualTo(1);
        assertThat(diagnoser.disagreements()).singleElement().satisfies(c -> {
            assertThat(c.name()).isEqualTo("abnormal-shadow-b");
            assertThat(c.shadow()).isEqualTo(ShadowVerdict.NOT_IDENTIFIED);
            assertThat(c.shadowDetail()).isEqualTo("not identified (NoMatchingProcess)");
            assertThat(c.realDetail()).isEqualTo("identified by kube-diagnoser/process-match-diagnoser");
        });
        assertThat(registry.get("kdiag.agent.shadow.runs").tag("processor", "kube-diagnoser/signal-recoverer")
                .tag("verdict", "WouldAct").counter().count()).isEqualTo(2);
    }

    private static List<ShadowFinished> shadows(EventLog log, String uid) {
        return log.events(uid).stream().map(DiagnosisEvent::getPayload).filter(ShadowFinished.class::isInstance)
                .map(ShadowFinished.class::cast).toList();
    }
}
