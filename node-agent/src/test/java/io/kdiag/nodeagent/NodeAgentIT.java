package io.kdiag.nodeagent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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

import javax.management.MBeanServer;
import javax.management.ObjectName;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.CommandExecutorSpec;
import io.kdiag.api.v1.Diagnoser;
import io.kdiag.api.v1.NamespacedName;
import io.kdiag.api.v1.ProcessorSpec;
import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.KafkaNames;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.schemas.Evidence;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.ProfilerFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.StageOutcome;
import io.kdiag.testkit.TestKafka;
import io.kdiag.testkit.TestKeys;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.assertj.core.api.InstanceOfAssertFactories;
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
    private KafkaProducer<byte[], byte[]> producer;
    private Path policyFile;
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
    void clients() throws IOException {
        node = "node-" + UUID.randomUUID().toString().substring(0, 8);
        policyFile = Fixtures.grantingEverything(stateDir);
        producer = new KafkaProducer<>(clientProps(), new ByteArraySerializer(), new ByteArraySerializer());
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
        return startAgent(Map.of(), new SimpleMeterRegistry(), null);
    }

    private NodeAgent startAgent(Map<String, String> extra, MeterRegistry registry, KubernetesClient client) {
        return startAgent(extra, registry, client, clientProps());
    }

    private NodeAgent startAgent(Map<String, String> extra, MeterRegistry registry, KubernetesClient client, Map<String, Object> kafkaProps) {
        Map<String, String> props = new HashMap<>(Map.of(
                "kdiag.node-name", node,
                "kdiag.state-dir", stateDir.toString(),
                "kdiag.verification-keys", TestKeys.verificationKeyFile().toString(),
                "kdiag.policy-file", policyFile.toString(),
                "kdiag.kubernetes", "off",
                "kdiag.http-port", "0"));
        props.putAll(extra);
        NodeAgentConfig config = NodeAgentConfig.from(ConfigSource.of(props, Map.of()));
        NodeAgent agent = client == null ? NodeAgent.start(config, kafkaProps, registry) : NodeAgent.start(config, kafkaProps, registry, client);
        agents.add(agent);
        return agent;
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private void publish(String key, AbnormalRequest request) throws Exception {
        producer.send(TestKeys.signed(TOPICS.abnormals(), key, request)).get(30, TimeUnit.SECONDS);
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

    /** A node whose records share this test's node's partition. */
    private String otherNodeOnThisPartition() {
        return IntStream.range(0, 10_000).mapToObj(i -> "other-" + i)
                .filter(n -> Topics.partitionFor(n, PARTITIONS) == Topics.partitionFor(node, PARTITIONS))
                .findFirst().orElseThrow();
    }

    /** Collects the processes, then runs a real recoverer that harms nothing: signal 0 only checks that {@code harmless} exists. */
    private AbnormalSpec collectingAndRecovering(Process harmless) {
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = node;
        spec.assignedInformationCollectors = List.of(builtin("process-collector"));
        spec.assignedRecoverers = List.of(builtin("signal-recoverer"));
        spec.context = Map.of("signalRecovery", List.of(Map.of("pid", harmless.pid(), "signal", 0)));
        return spec;
    }

    private static NamespacedName builtin(String name) {
        return new NamespacedName("kube-diagnoser", name);
    }

    @Test
    void shouldRunItsNodesAbnormalsOnceAndSkipOtherNodes() throws Exception {
        String other = otherNodeOnThisPartition();
        Process harmless = child("sleep", "300");
        AbnormalSpec spec = collectingAndRecovering(harmless);
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
    void shouldSkipOtherNodesRecordsWithoutACommitForEachPoll() throws Exception {
        String other = otherNodeOnThisPartition();
        startAgent();
        for (int i = 0; i < 300; i++) {
            producer.send(TestKeys.signed(TOPICS.abnormals(), other, Fixtures.request("theirs-" + i + "-" + node, other, new AbnormalSpec())));
        }
        publish(node, Fixtures.request("marker-" + node, node, new AbnormalSpec()));
        awaitEnd("marker-" + node, Stage.Recovery, StageOutcome.Skipped);
        awaitCommittedToEnd();

        // 30 polls of other nodes' records (ten each) and one abnormal: a commit per poll would be 31
        assertThat(consumerCommits()).isLessThan(10);
    }

    /** How many offset commits the agent's consumer completed, from its client metrics. */
    private double consumerCommits() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = new ObjectName("kafka.consumer:type=consumer-coordinator-metrics,client-id=kdiag-node-agent-" + node);
        return ((Number) server.getAttribute(name, "commit-total")).doubleValue();
    }

    @Test
    void shouldNotLetTheEventsBatchingDelayAnAbnormal() throws Exception {
        AbnormalSpec spec = collectingAndRecovering(child("sleep", "300"));
        Map<String, Object> lingering = clientProps();
        // far longer than the wait below: the recoverer's start and the end are only acknowledged in time if the agent
        // sends its batched events when it waits for them
        lingering.put(ProducerConfig.LINGER_MS_CONFIG, 600_000);
        startAgent(Map.of(), new SimpleMeterRegistry(), null, lingering);

        publish(node, Fixtures.request("lingering-" + node, node, spec));

        awaitEnd("lingering-" + node, Stage.Recovery, StageOutcome.Succeeded);
        assertThat(eventsOf("lingering-" + node)).hasSize(11);
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

    @Test
    void shouldExposeMetricsThatMoveAsAbnormalsRun() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        NodeAgent agent = startAgent(Map.of(), registry, null);
        await().atMost(WAIT).until(() -> get("http://127.0.0.1:" + agent.httpPort() + "/readyz").statusCode() == 200);
        // every counter is there at zero before the first abnormal, so rate() and the dashboard have a series
        assertThat(registry.scrape()).contains("kdiag_agent_stage_sync_total{result=\"success\",stage=\"InformationCollection\"} 0.0",
                "kdiag_agent_command_executor_total{result=\"success\",stage=\"InformationCollection\"} 0.0",
                "kdiag_agent_unrunnable_records_total{reason=\"undecodable\"} 0.0");
        for (String reason : List.of("Unsigned", "UnknownKey", "BadSignature", "OriginNotAllowed", "NodeMismatch")) {
            assertThat(registry.scrape()).contains("kdiag_agent_records_refused_total{reason=\"" + reason + "\"} 0.0");
        }
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = node;
        spec.assignedInformationCollectors = List.of(builtin("process-collector"));
        CommandExecutorSpec echo = new CommandExecutorSpec();
        echo.command = List.of("echo", "hi");
        echo.type = "InformationCollector";
        spec.commandExecutors = List.of(echo);

        publish(node, Fixtures.request("metrics-1-" + node, node, spec));
        awaitEnd("metrics-1-" + node, Stage.Recovery, StageOutcome.Skipped);
        String first = registry.scrape();
        publish(node, Fixtures.request("metrics-2-" + node, node, spec));
        awaitEnd("metrics-2-" + node, Stage.Recovery, StageOutcome.Skipped);
        await().atMost(WAIT).until(() -> registry.scrape().contains("kdiag_agent_partition_lag 0.0"));
        String second = registry.scrape();

        assertThat(first).contains("kdiag_agent_stage_sync_total{result=\"success\",stage=\"InformationCollection\"} 1.0",
                "kdiag_agent_stage_sync_total{result=\"skip\",stage=\"Recovery\"} 1.0",
                "kdiag_agent_command_executor_total{result=\"success\",stage=\"InformationCollection\"} 1.0",
                "kdiag_agent_processor_duration_seconds_count{processor=\"kube-diagnoser/process-collector\",stage=\"InformationCollection\"} 1",
                "kdiag_agent_stage_duration_seconds_bucket{stage=\"Diagnosis\",le=",
                "kdiag_agent_abnormals_in_flight 0.0", "kdiag_agent_partition_lag");
        assertThat(second).contains("kdiag_agent_stage_sync_total{result=\"success\",stage=\"InformationCollection\"} 2.0",
                "kdiag_agent_command_executor_total{result=\"success\",stage=\"InformationCollection\"} 2.0",
                "kdiag_agent_processor_duration_seconds_count{processor=\"kube-diagnoser/process-collector\",stage=\"InformationCollection\"} 2");
    }

    @Test
    void shouldKeepAProfileAsEvidenceOnTheTopic() throws Exception {
        startAgent(Map.of(), new SimpleMeterRegistry(), null);
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = node;
        ProfilerSpec profiler = new ProfilerSpec();
        profiler.name = "cpu";
        profiler.type = "InformationCollector";
        profiler.go = new ProfilerSpec.GoProfilerSpec();
        profiler.go.source = "http://localhost:6060/debug/pprof/profile";
        spec.profilers = List.of(profiler);
        String uid = "profile-" + node;

        publish(node, Fixtures.request(uid, node, spec));

        awaitEnd(uid, Stage.Recovery, StageOutcome.Skipped);
        ProfilerFinished finished = eventsOf(uid).stream().map(DiagnosisEvent::getPayload).filter(ProfilerFinished.class::isInstance)
                .map(ProfilerFinished.class::cast).findFirst().orElseThrow();
        assertThat(finished.getError()).isNull();
        // the endpoint is the status writer's path of the page, which is on the evidence topic, not on the node
        Evidence.Reference page = Evidence.Reference.fromServedPath(TOPICS.evidence().name(), finished.getEndpoint());
        assertThat(page.contentType()).isEqualTo("text/html");
        byte[] served = new Evidence.Reader(clientProps(), TOPICS.evidence().name(), WAIT).readAll(page);
        assertThat(new String(served, StandardCharsets.UTF_8)).isEqualTo("<html>profile of http://localhost:6060/debug/pprof/profile</html>");
    }

    @Test
    void shouldCallARemoteDiagnoserRegisteredAsACustomResource() throws Exception {
        HttpServer processor = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        processor.createContext("/diagnose", exchange -> {
            try (exchange) {
                Abnormal abnormal = ApiSerialization.abnormal(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
                abnormal.getStatus().context.put("remoteDiagnosis", Map.of("seen", List.copyOf(abnormal.getStatus().context.keySet())));
                byte[] body = ApiSerialization.json(abnormal).getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            }
        });
        processor.start();
        KubernetesMockServer api = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(), false);
        api.init();
        try (KubernetesClient client = api.createClient()) {
            try (java.util.stream.Stream<Path> crds = Files.list(Path.of("..", "deploy", "base", "crds"))) {
                for (Path crd : crds.toList()) {
                    client.apiextensions().v1().customResourceDefinitions().load(crd.toFile()).create();
                }
            }
            Diagnoser registration = new Diagnoser();
            registration.setMetadata(new ObjectMetaBuilder().withNamespace("team").withName("remote-diagnoser").build());
            registration.setSpec(new ProcessorSpec());
            registration.getSpec().externalIP = "127.0.0.1";
            registration.getSpec().externalPort = processor.getAddress().getPort();
            registration.getSpec().path = "/diagnose";
            client.resource(registration).create();
            NodeAgent agent = startAgent(Map.of("kdiag.kubernetes", "on"), new SimpleMeterRegistry(), client);
            String base = "http://127.0.0.1:" + agent.httpPort();
            await().atMost(WAIT).until(() -> get(base + "/readyz").statusCode() == 200
                    && get(base + "/diagnoser").body().contains("remote-diagnoser"));
            AbnormalSpec spec = new AbnormalSpec();
            spec.nodeName = node;
            spec.assignedInformationCollectors = List.of(builtin("process-collector"));
            spec.assignedDiagnosers = List.of(new NamespacedName("team", "remote-diagnoser"));
            String uid = "remote-" + node;

            publish(node, Fixtures.request(uid, node, spec));

            awaitEnd(uid, Stage.Diagnosis, StageOutcome.Succeeded);
            ProcessorFinished diagnosis = eventsOf(uid).stream().map(DiagnosisEvent::getPayload)
                    .filter(p -> p instanceof ProcessorFinished f && f.getStage() == Stage.Diagnosis)
                    .map(ProcessorFinished.class::cast).findFirst().orElseThrow();
            assertThat(diagnosis.getProcessor().getName()).isEqualTo("remote-diagnoser");
            assertThat(ApiSerialization.jsonObject(diagnosis.getContextUpdates()))
                    .isEqualTo(Map.of("remoteDiagnosis", Map.of("seen", List.of("processInformation"))));
        } finally {
            agents.forEach(NodeAgent::close);
            agents.clear();
            api.destroy();
            processor.stop(0);
        }
    }

    private void awaitCommittedToEnd() {
        TopicPartition partition = new TopicPartition(TOPICS.abnormals().name(), Topics.partitionFor(node, PARTITIONS));
        try (Admin admin = Admin.create(clientProps())) {
            await().atMost(WAIT).until(() -> {
                long end = admin.listOffsets(Map.of(partition, OffsetSpec.latest())).partitionResult(partition).get().offset();
                OffsetAndMetadata committed = admin.listConsumerGroupOffsets(new KafkaNames(TOPICS.prefix()).agentGroup(node))
                        .partitionsToOffsetAndMetadata().get().get(partition);
                return committed != null && committed.offset() == end;
            });
        }
    }
}
