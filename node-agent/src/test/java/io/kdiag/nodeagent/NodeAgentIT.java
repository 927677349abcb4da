package io.kdiag.nodeagent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.CommandExecutorSpec;
import io.kdiag.api.v1.NamespacedName;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.StageOutcome;
import io.kdiag.testkit.TestKafka;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeAgentIT {
    private static final Topics TOPICS = new Topics("kdiag.");
    private static final int PARTITIONS = 12;
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static TestKafka kafka;

    @TempDir
    Path stateDir;
    private final List<NodeAgent> agents = new ArrayList<>();
    private final List<Process> children = new ArrayList<>();
    private final List<DiagnosisEvent> events = new ArrayList<>();
    private KafkaProducer<String, AbnormalRequest> producer;
    private KafkaConsumer<String, DiagnosisEvent> reader;
    private String node;

    @BeforeAll
    static void startKafka() {
        kafka = TestKafka.start();
        TopicAdmin.ensureTopics(clientProps(), TOPICS, PARTITIONS, (short) 1);
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    private static Map<String, Object> clientProps() {
        return new HashMap<>(Map.of("bootstrap.servers", kafka.bootstrapServers()));
    }

    @BeforeEach
    void clients() {
        node = "node-" + UUID.randomUUID().toString().substring(0, 8);
        producer = new KafkaProducer<>(clientProps(), TOPICS.abnormals().keySerde().serializer(), TOPICS.abnormals().valueSerde().serializer());
        Map<String, Object> props = clientProps();
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        reader = new KafkaConsumer<>(props, TOPICS.diagnosisEvents().keySerde().deserializer(), TOPICS.diagnosisEvents().valueSerde().deserializer());
        List<TopicPartition> all = IntStream.range(0, PARTITIONS).mapToObj(p -> new TopicPartition(TOPICS.diagnosisEvents().name(), p)).toList();
        reader.assign(all);
        reader.seekToBeginning(all);
    }

    @AfterEach
    void close() {
        agents.forEach(NodeAgent::close);
        children.forEach(Process::destroyForcibly);
        producer.close();
        reader.close();
    }

    private NodeAgent startAgent() {
        NodeAgentConfig config = NodeAgentConfig.from(ConfigSource.of(Map.of(
                "kdiag.node-name", node,
                "kdiag.state-dir", stateDir.toString(),
                "kdiag.command-allowlist", "echo"), Map.of()));
        NodeAgent agent = NodeAgent.start(config, clientProps(), new SimpleMeterRegistry());
        agents.add(agent);
        return agent;
    }

    private void publish(String key, AbnormalRequest request) throws Exception {
        producer.send(new ProducerRecord<>(TOPICS.abnormals().name(), key, request)).get(30, TimeUnit.SECONDS);
    }

    private List<DiagnosisEvent> eventsOf(String uid) {
        reader.poll(Duration.ofMillis(200)).forEach(r -> events.add(r.value()));
        return events.stream().filter(e -> e.getAbnormalUid().equals(uid)).toList();
    }

    private void awaitEnd(String uid, Stage stage, StageOutcome outcome) {
        await().atMost(WAIT).until(() -> eventsOf(uid).stream().anyMatch(e -> e.getPayload() instanceof StageFinished s
                && s.getStage() == stage && s.getOutcome() == outcome));
    }

    private Process child(String... command) throws Exception {
        Process process = new ProcessBuilder(command).start();
        children.add(process);
        return process;
    }

    private static NamespacedName builtin(String name) {
        return new NamespacedName("kube-diagnoser", name);
    }

    @Test
    void shouldRunItsNodesAbnormalsOnceAndSkipOtherNodes() throws Exception {
        String other = IntStream.range(0, 10_000).mapToObj(i -> "other-" + i)
                .filter(n -> TopicAdmin.partitionFor(n, PARTITIONS) == TopicAdmin.partitionFor(node, PARTITIONS))
                .findFirst().orElseThrow();
        Process harmless = child("sleep", "300");
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = node;
        spec.assignedInformationCollectors = List.of(builtin("process-collector"));
        spec.assignedRecoverers = List.of(builtin("signal-recoverer"));
        // signal 0 only checks that the process exists: a real recoverer run that harms nothing
        spec.context = Map.of("signalRecovery", List.of(Map.of("pid", harmless.pid(), "signal", 0)));
        CommandExecutorSpec echo = new CommandExecutorSpec();
        echo.command = List.of("echo", "collected");
        echo.type = "InformationCollector";
        spec.commandExecutors = List.of(echo);
        AbnormalRequest ours = Fixtures.request("ours-" + node, node, spec);
        startAgent();

        publish(node, ours);
        publish(other, Fixtures.request("theirs-" + node, other, spec));
        publish(node, ours);
        publish(node, Fixtures.request("marker-" + node, node, new AbnormalSpec()));
        awaitEnd("marker-" + node, Stage.Recovery, StageOutcome.Skipped);

        List<DiagnosisEvent> run = eventsOf(ours.getUid());
        assertThat(run.stream().map(e -> Fixtures.describe(e.getPayload()))).containsExactly(
                "Accepted",
                "StageStarted InformationCollection",
                "CommandFinished InformationCollection echo",
                "ProcessorStarted process-collector", "ProcessorFinished process-collector ok",
                "StageFinished InformationCollection Succeeded",
                "StageStarted Diagnosis", "StageFinished Diagnosis Skipped",
                "StageStarted Recovery",
                "ProcessorStarted signal-recoverer", "ProcessorFinished signal-recoverer ok",
                "StageFinished Recovery Succeeded signal-recoverer");
        assertThat(run).extracting(DiagnosisEvent::getSeq).containsExactlyElementsOf(
                IntStream.range(0, run.size()).mapToObj(Long::valueOf).toList());
        ProcessorFinished collected = (ProcessorFinished) run.get(4).getPayload();
        assertThat(ApiSerialization.jsonObject(collected.getContextUpdates()).get("processInformation"))
                .asInstanceOf(InstanceOfAssertFactories.LIST).anySatisfy(p -> assertThat(((Map<?, ?>) p).get("pid")).isEqualTo((int) ProcessHandle.current().pid()));
        assertThat(eventsOf("theirs-" + node)).isEmpty();
        assertThat(harmless.isAlive()).isTrue();
        awaitCommittedToEnd();

        // a restart remembers the finished uid
        agents.remove(0).close();
        startAgent();
        publish(node, ours);
        publish(node, Fixtures.request("marker2-" + node, node, new AbnormalSpec()));
        awaitEnd("marker2-" + node, Stage.Recovery, StageOutcome.Skipped);
        assertThat(eventsOf(ours.getUid())).hasSize(run.size());
    }

    @Test
    void shouldKillAMatchingProcess() throws Exception {
        String marker = "300." + ThreadLocalRandom.current().nextInt(100_000_000, 999_999_999);
        Process stuck = child("sleep", marker);
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = node;
        spec.assignedInformationCollectors = List.of(builtin("process-collector"));
        spec.assignedDiagnosers = List.of(builtin("process-match-diagnoser"));
        spec.assignedRecoverers = List.of(builtin("signal-recoverer"));
        spec.context = Map.of("processMatch", Map.of("commandPattern", "sleep " + marker.replace(".", "\\.")));
        AbnormalRequest request = Fixtures.request("kill-" + node, node, spec);
        startAgent();

        publish(node, request);

        awaitEnd(request.getUid(), Stage.Recovery, StageOutcome.Succeeded);
        await().atMost(WAIT).until(() -> !stuck.isAlive());
        ProcessorFinished diagnosis = eventsOf(request.getUid()).stream().map(DiagnosisEvent::getPayload)
                .filter(p -> p instanceof ProcessorFinished f && f.getStage() == Stage.Diagnosis)
                .map(ProcessorFinished.class::cast).findFirst().orElseThrow();
        assertThat(ApiSerialization.jsonObject(diagnosis.getContextUpdates()).get("signalRecovery"))
                .isEqualTo(List.of(Map.of("pid", (int) stuck.pid(), "signal", 15)));
        assertThat(diagnosis.getRemovedContextKeys()).containsExactly("processInformation");
    }

    private void awaitCommittedToEnd() {
        TopicPartition partition = new TopicPartition(TOPICS.abnormals().name(), TopicAdmin.partitionFor(node, PARTITIONS));
        try (Admin admin = Admin.create(clientProps())) {
            await().atMost(WAIT).until(() -> {
                long end = admin.listOffsets(Map.of(partition, OffsetSpec.latest())).partitionResult(partition).get().offset();
                OffsetAndMetadata committed = admin.listConsumerGroupOffsets("kdiag-node-agent-" + node)
                        .partitionsToOffsetAndMetadata().get().get(partition);
                return committed != null && committed.offset() == end;
            });
        }
    }
}
