package io.kdiag.nodeagent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.NamespacedName;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalFailed;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.ProcessorStarted;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.testkit.TestKafka;
import io.kdiag.testkit.TestKeys;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the agent as its own JVM ({@link Main}), kills it with SIGKILL in the middle of recoveries, restarts it, and
 * checks from the events topic and the workers' side-effect file that nothing ran twice and everything ended.
 */
class CrashIT {
    private static final Topics TOPICS = new Topics("kdiag.");
    private static final int PARTITIONS = 12;
    private static final int ABNORMALS = 30;
    private static final String COLLECTOR = "crash-test-collector";
    private static final String RECOVERER = "crash-test-recoverer";
    private static TestKafka kafka;

    @TempDir
    Path dir;
    private final List<Process> agents = new ArrayList<>();

    @BeforeAll
    static void startKafka() {
        kafka = TestKafka.start();
        TopicAdmin.ensureTopics(Map.of("bootstrap.servers", kafka.bootstrapServers()), TOPICS, PARTITIONS, (short) 1);
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    @AfterEach
    void killAgents() {
        agents.forEach(Process::destroyForcibly);
    }

    private Process startAgent(String node) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"), Main.class.getName())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("agent.log").toFile()));
        Map<String, String> env = builder.environment();
        env.put("KDIAG_NODE_NAME", node);
        env.put("KDIAG_STATE_DIR", dir.resolve("state").toString());
        env.put("KDIAG_KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        env.put("KDIAG_KUBERNETES", "off");
        env.put("KDIAG_HTTP_PORT", "0");
        env.put("KDIAG_METRICS_PORT", "0");
        env.put("KDIAG_CREATE_TOPICS", "false");
        env.put("KDIAG_VERIFICATION_KEYS", TestKeys.verificationKeyFile().toString());
        env.put("KDIAG_POLICY_FILE", Fixtures.grantingEverything(dir).toString());
        env.put(CrashWorkers.SIDE_EFFECTS_ENV, sideEffects().toString());
        Process agent = builder.start();
        agents.add(agent);
        return agent;
    }

    private Path sideEffects() {
        return dir.resolve("side-effects");
    }

    private List<String> runs() throws Exception {
        return Files.exists(sideEffects()) ? Files.readAllLines(sideEffects()) : List.of();
    }

    /** Kills the agent with SIGKILL once at least {@code runs} workers started and a recoverer is the one running. */
    private void killDuringARecovery(Process agent, int runs) throws Exception {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).until(() -> {
            List<String> lines = runs();
            return lines.size() >= runs && lines.get(lines.size() - 1).endsWith(RECOVERER);
        });
        agent.destroyForcibly();
        assertThat(agent.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void shouldNeverRunAProcessorTwiceAcrossKills() throws Exception {
        String node = "crash-" + UUID.randomUUID().toString().substring(0, 8);
        List<String> uids = IntStream.range(0, ABNORMALS).mapToObj(i -> "crash-" + i + "-" + node).toList();
        Map<String, Object> props = new HashMap<>(Map.of("bootstrap.servers", kafka.bootstrapServers()));
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            AbnormalSpec spec = new AbnormalSpec();
            spec.nodeName = node;
            spec.assignedInformationCollectors = List.of(new NamespacedName("kube-diagnoser", COLLECTOR));
            spec.assignedRecoverers = List.of(new NamespacedName("kube-diagnoser", RECOVERER));
            for (String uid : uids) {
                producer.send(TestKeys.signed(TOPICS.abnormals(), Fixtures.request(uid, node, spec)));
            }
            producer.flush();
        }

        for (int runs : List.of(4, 14, 30)) {
            killDuringARecovery(startAgent(node), runs);
        }
        startAgent(node);

        Map<String, List<DiagnosisEvent>> events = new HashMap<>();
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, DiagnosisEvent> reader = new KafkaConsumer<>(props,
                TOPICS.diagnosisEvents().keySerde().deserializer(), TOPICS.diagnosisEvents().valueSerde().deserializer())) {
            TopicPartition partition = new TopicPartition(TOPICS.diagnosisEvents().name(), Topics.partitionFor(node, PARTITIONS));
            reader.assign(List.of(partition));
            reader.seekToBeginning(List.of(partition));
            await().atMost(Duration.ofSeconds(90)).until(() -> {
                reader.poll(Duration.ofMillis(200)).forEach(r -> events.computeIfAbsent(r.value().getAbnormalUid(), k -> new ArrayList<>())
                        .add(r.value()));
                return uids.stream().allMatch(uid -> ended(events.getOrDefault(uid, List.of())));
            });
        }

        Map<String, Long> runCounts = runs().stream().collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
        assertThat(runCounts).as("worker runs per abnormal").allSatisfy((run, count) -> assertThat(count).as(run).isEqualTo(1));
        Set<String> interrupted = new TreeSet<>();
        for (String uid : uids) {
            List<Object> payloads = events.get(uid).stream().map(DiagnosisEvent::getPayload).toList();
            boolean recoveryStarted = payloads.stream().anyMatch(p -> p instanceof ProcessorStarted s && s.getStage() == Stage.Recovery);
            boolean recoveryFinished = payloads.stream().anyMatch(p -> p instanceof ProcessorFinished f && f.getStage() == Stage.Recovery);
            if (recoveryStarted && !recoveryFinished) {
                interrupted.add(uid);
                assertThat(payloads).as(uid).filteredOn(AbnormalFailed.class::isInstance)
                        .extracting(p -> ((AbnormalFailed) p).getReason()).containsOnly("RecoveryInterrupted");
            }
            assertThat(payloads.stream().filter(p -> p instanceof ProcessorStarted s && s.getStage() == Stage.Recovery).count())
                    .as(uid + " recoverer starts").isLessThanOrEqualTo(1);
        }
        // every kill landed while a recoverer ran
        assertThat(interrupted).hasSize(3);
        assertThat(runs().stream().filter(r -> r.endsWith(RECOVERER)).count()).isEqualTo(ABNORMALS - countFailedBeforeRecovery(events, uids));
    }

    private static boolean ended(List<DiagnosisEvent> events) {
        return events.stream().map(DiagnosisEvent::getPayload).anyMatch(p -> p instanceof AbnormalFailed
                || p instanceof StageFinished s && s.getStage() == Stage.Recovery);
    }

    private static long countFailedBeforeRecovery(Map<String, List<DiagnosisEvent>> events, List<String> uids) {
        return uids.stream().filter(uid -> events.get(uid).stream().map(DiagnosisEvent::getPayload)
                .noneMatch(p -> p instanceof ProcessorStarted s && s.getStage() == Stage.Recovery)).count();
    }
}
