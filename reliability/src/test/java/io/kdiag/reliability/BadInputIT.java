package io.kdiag.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.CommandExecutorSpec;
import io.kdiag.api.v1.Diagnoser;
import io.kdiag.api.v1.NamespacedName;
import io.kdiag.api.v1.PodReference;
import io.kdiag.api.v1.ProcessorSpec;
import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.client.KdiagClient;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.KafkaAcls.Role;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.schemas.AvroSerde;
import io.kdiag.schemas.DeadLetterHeaders;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.sourcebridge.SourceBridge;
import io.kdiag.sourcebridge.log.LogSource;
import io.kdiag.sourcebridge.log.LogSourceConfig;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.testkit.MockCluster;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Generated malformed input (seeded, many shapes) at every entry point of one running pipeline connected to a mock
 * cluster: ingest records (Avro and JSON), Alertmanager posts, Abnormal CRs, Kubernetes Events, AbnormalSource rules,
 * log lines and remote processor answers. Each bad input must get a clear error, the components must keep serving, and
 * valid abnormals sent in between must all reach their phase.
 */
class BadInputIT {
    private static final Logger LOG = LoggerFactory.getLogger(BadInputIT.class);
    private static final long SEED = 20_261_127L;
    private static final String NODE = "bad-input-node";
    private static final String RULES_NS = "kube-diagnoser";
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final ResourceDefinitionContext ABNORMAL_SOURCES = new ResourceDefinitionContext.Builder()
            .withGroup("diagnosis.netease.com").withVersion("v1").withKind("AbnormalSource").withPlural("abnormalsources")
            .withNamespaced(true).build();
    private static final Set<String> REMOTE_REASONS = Set.of("RemoteError", "InvalidResponse", "ResponseTooLarge", "Timeout");
    private static final Pattern REMOTE_KIND = Pattern.compile("\"name\"\\s*:\\s*\"remote-(\\d+)\"");

    @TempDir
    static Path dir;
    static SecuredKafka kafka;
    static MockCluster cluster;
    static KubernetesClient kube;
    static SimpleMeterRegistry bridgeMetrics = new SimpleMeterRegistry();
    static SourceBridge bridge;
    static NodeAgent agent;
    static StatusWriter writer;
    static LogSource logSource;
    static HttpServer garbageProcessor;
    static KdiagClient client;
    static Topics topics = Topics.withDefaultPrefix();
    static HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void startPipeline() throws Exception {
        System.setProperty(SideEffects.ENV, dir.resolve("side-effects").toString());
        kafka = SecuredKafka.startWithAcls(dir.resolve("broker"), topics, 12);
        cluster = new MockCluster();
        kube = cluster.client();
        // the bridge and the agent connect on their own (kdiag.kubernetes=on), as in a pod, through this kubeconfig
        System.setProperty("kubeconfig", cluster.writeKubeconfig(dir.resolve("cluster")).toString());
        garbageProcessor = startGarbageProcessor();
        Diagnoser registration = new Diagnoser();
        registration.setMetadata(new ObjectMetaBuilder().withNamespace("team").withName("garbage-diagnoser").build());
        registration.setSpec(new ProcessorSpec());
        registration.getSpec().externalIP = "127.0.0.1";
        registration.getSpec().externalPort = garbageProcessor.getAddress().getPort();
        registration.getSpec().path = "/diagnose";
        registration.getSpec().timeoutSeconds = 5;
        kube.resource(registration).create();
        rule("reliability-events", """
                {"sourceTemplate": {"type": "KubernetesEvent", "kubernetesEventTemplate": {"regexp": {"reason": "ReliabilityProbe"}}},
                 "assignedInformationCollectors": [{"namespace": "kube-diagnoser", "name": "reliability-collector"}]}""");
        rule("reliability-alerts", """
                {"sourceTemplate": {"type": "PrometheusAlert", "prometheusAlertTemplate": {"regexp": {"alertName": "ReliabilityAlert"},
                   "nodeNameReferenceLabel": "node"}},
                 "assignedInformationCollectors": [{"namespace": "kube-diagnoser", "name": "reliability-collector"}]}""");

        writer = Components.writer(kafka.settings(Role.STATUS_WRITER), dir.resolve("writer"), null);
        // the log source makes its key when it starts, after the agent: the agent reads it at its first record
        agent = Components.agent(kafka.settings(Role.NODE_AGENT), dir.resolve("agent"), NODE, "kdiag.kubernetes", "on",
                "kdiag.log-source-verification-keys", dir.resolve("log-state/signing-key.pub").toString());
        bridge = Components.bridge(kafka.settings(Role.SOURCE_BRIDGE), bridgeMetrics, "kdiag.kubernetes", "on",
                "kdiag.repeat-interval", "1ms");
        logSource = startLogSource(kafka.settings(Role.LOG_SOURCE));
        client = KdiagClient.builder().kafka(kafka.settings(Role.CLI)).build();
        String agentUrl = "http://127.0.0.1:" + agent.httpPort();
        await().atMost(WAIT).until(() -> get(agentUrl + "/readyz").statusCode() == 200
                && get(agentUrl + "/diagnoser").body().contains("garbage-diagnoser"));
    }

    @AfterAll
    static void stopPipeline() {
        for (AutoCloseable c : new AutoCloseable[] {client, logSource, bridge, agent, writer, cluster, kafka}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                LOG.warn("cannot close component={} reason={}", c, e.toString());
            }
        }
        if (garbageProcessor != null) {
            garbageProcessor.stop(0);
        }
        System.clearProperty("kubeconfig");
        System.clearProperty(SideEffects.ENV);
    }

    // ---- ingest topic: Avro and JSON ----

    @Test
    void shouldDeadLetterMalformedIngestRecordsWithAReasonAndForwardTheValidOnes() throws Exception {
        Garbage garbage = new Garbage(SEED);
        byte[] validAvro = AvroSerde.of(AbnormalRequest.class).encode(AbnormalRequest.newBuilder()
                .setUid("avro-template").setNamespace("default").setName("avro-template").setNodeName("elsewhere")
                .setOrigin(Origin.IngestTopic).setRequestedAt(Instant.parse("2026-11-27T00:00:00Z")).setSpec("{\"nodeName\":\"elsewhere\"}")
                .setLabels(Map.of()).build());
        String validJson = """
                {"apiVersion": "diagnosis.netease.com/v1", "kind": "Abnormal", "metadata": {"name": "json-template", "namespace": "default",
                 "labels": {"team": "a"}}, "spec": {"nodeName": "elsewhere", "skipRecovery": true, "context": {"k": 1},
                 "commandExecutors": [{"command": ["uname"], "type": "InformationCollector", "timeoutSeconds": 5}]}}""";
        List<String[]> wrongTypes = List.of(new String[] {"\"elsewhere\"", "7"}, new String[] {"true", "\"yes\""},
                new String[] {"{\"k\": 1}", "[1]"}, new String[] {"[\"uname\"]", "\"uname\""}, new String[] {"\"json-template\"", "\"Json_Template\""},
                new String[] {"\"default\"", "{}"}, new String[] {"5}", "-5}"}, new String[] {"\"InformationCollector\"", "\"Whatever\""},
                new String[] {"{\"team\": \"a\"}", "{\"team\": 1}"}, new String[] {"\"spec\"", "\"spek\""});
        int inputs = 500;
        Map<String, Integer> shapes = new TreeMap<>();
        List<String> valid = new ArrayList<>();
        Set<Long> offsets = new java.util.HashSet<>();
        Map<String, Object> settings = kafka.settings(Role.INGEST);
        settings.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 2 * 1024 * 1024);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(settings, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < inputs; i++) {
                if (i % 25 == 0) {
                    valid.add(client.publish(Components.abnormal("valid-ingest-" + i, NODE, false)));
                }
                Garbage.Input input;
                if (i % 50 == 7) {
                    // over the 512 KiB a spec may have, in a record the broker still takes
                    input = new Garbage.Input("oversized", validJson.replace("{\"k\": 1}", "{\"k\": \"" + "x".repeat(600_000) + "\"}")
                            .getBytes(StandardCharsets.UTF_8));
                } else {
                    input = i % 2 == 0 ? garbage.binary(validAvro) : garbage.json(validJson, wrongTypes);
                }
                shapes.merge((i % 2 == 0 && i % 50 != 7 ? "avro/" : "json/") + input.shape(), 1, Integer::sum);
                byte[] key = garbage.nextInt(3) == 0 ? null : garbage.bytes(12);
                RecordMetadata sent = producer.send(new ProducerRecord<>(topics.abnormalRequests().name(), key, input.bytes()))
                        .get(30, TimeUnit.SECONDS);
                offsets.add(((long) sent.partition() << 40) | sent.offset());
            }
        }

        // every record is accounted for: forwarded, dead-lettered (with a reason) or a duplicate, never nothing
        double expected = inputs + valid.size();
        await().atMost(WAIT).until(() -> ingestTotal() >= expected);
        List<ConsumerRecord<byte[], byte[]>> dead = deadLetters();
        Map<String, Integer> reasons = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> letter : dead) {
            String reason = header(letter, DeadLetterHeaders.REASON);
            assertThat(reason).as("dead letter reason").isNotBlank();
            assertThat(header(letter, DeadLetterHeaders.SOURCE_TOPIC)).isEqualTo(topics.abnormalRequests().name());
            long at = (Long.parseLong(header(letter, DeadLetterHeaders.SOURCE_PARTITION)) << 40)
                    | Long.parseLong(header(letter, DeadLetterHeaders.SOURCE_OFFSET));
            assertThat(offsets).as("dead letter of one of our inputs").contains(at);
            reasons.merge(reason.split("[: ]", 2)[0], 1, Integer::sum);
        }
        double forwarded = counted("forwarded") - valid.size();
        double suppressed = counted("suppressed");
        assertThat(counted("dead-lettered")).as("dead letters counted").isEqualTo(dead.size());
        assertThat(dead.size() + forwarded + suppressed).as("inputs accounted for").isEqualTo(inputs);
        assertThat(dead.size()).as("dead letters").isGreaterThan(inputs * 9 / 10);
        awaitSucceeded(valid);
        LOG.info("reliability figures entry=ingest inputs={} dead-lettered={} still-valid-forwarded={} valid-interleaved={} shapes={} "
                + "suppressed-duplicates={} reasons={}", inputs, dead.size(), (long) forwarded, valid.size(), shapes, (long) suppressed, reasons);
    }

    private static double ingestTotal() {
        return bridgeMetrics.find("kdiag.bridge.ingest.records").counters().stream().mapToDouble(Counter::count).sum();
    }

    private static double counted(String result) {
        return bridgeMetrics.find("kdiag.bridge.ingest.records").tag("result", result).counters().stream().mapToDouble(Counter::count).sum();
    }

    private static List<ConsumerRecord<byte[], byte[]>> deadLetters() {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        // only the operator reads the dead letters
        Map<String, Object> settings = kafka.adminSettings();
        settings.putAll(Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 4 * 1024 * 1024));
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(settings, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> all = consumer.partitionsFor(topics.deadLetters().name()).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(all);
            consumer.seekToBeginning(all);
            Map<TopicPartition, Long> end = consumer.endOffsets(all);
            while (all.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
            }
        }
        return records;
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    // ---- Alertmanager / Prometheus over HTTP ----

    @Test
    void shouldAnswerMalformedAlertPostsWith4xxAndAReason() throws Exception {
        Garbage garbage = new Garbage(SEED + 1);
        String webhook = """
                {"receiver": "kube-diagnoser", "status": "firing", "version": "4", "groupKey": "{}", "groupLabels": {}, "commonLabels": {},
                 "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
                 "alerts": [{"status": "firing", "labels": {"alertname": "ReliabilityAlert", "node": "elsewhere"}, "annotations": {"a": "b"},
                             "startsAt": "2026-11-27T11:40:00Z", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "",
                             "fingerprint": "0123456789abcdef"}]}""";
        List<String[]> wrongTypes = List.of(new String[] {"\"ReliabilityAlert\"", "7"}, new String[] {"\"firing\", \"labels\"", "5, \"labels\""},
                new String[] {"\"2026-11-27T11:40:00Z\"", "\"yesterday\""}, new String[] {"{\"a\": \"b\"}", "[\"a\"]"},
                new String[] {"\"alerts\": [", "\"alerts\": {\"x\": ["}, new String[] {"\"0123456789abcdef\"", "12"},
                new String[] {"\"0001-01-01T00:00:00Z\"", "true"}, new String[] {"\"version\": \"4\"", "\"version\": [4]"});
        String url = "http://127.0.0.1:" + bridge.httpPort();
        List<String> paths = List.of("/api/v1/alerts", "/api/v2/alerts", "/webhook");
        int inputs = 200;
        Map<Integer, Integer> codes = new TreeMap<>();
        Map<String, Integer> shapes = new TreeMap<>();
        List<String> validNames = new ArrayList<>();
        for (int i = 0; i < inputs; i++) {
            if (i % 20 == 0) {
                String fingerprint = String.format("%016x", 0xa1e7_0000L + i);
                HttpResponse<String> ok = post(url + "/webhook", webhook.replace("0123456789abcdef", fingerprint).replace("\"elsewhere\"", "\"" + NODE + "\""));
                assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
                validNames.add("prometheus-alert.reliabilityalert." + fingerprint.substring(0, 7));
            }
            Garbage.Input input = garbage.json(webhook, wrongTypes);
            shapes.merge(input.shape(), 1, Integer::sum);
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url + garbage.pick(paths)))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(input.bytes())).build(), HttpResponse.BodyHandlers.ofString());
            codes.merge(response.statusCode(), 1, Integer::sum);
            assertThat(response.statusCode()).as("%s: %s", input.shape(), input.text().length() > 200 ? input.shape() : input.text())
                    .isIn(200, 400);
            if (response.statusCode() != 200) {
                assertThat(response.body()).as("error body").startsWith("{");
                Map<String, Object> error = ApiSerialization.jsonObject(response.body());
                assertThat(error.get("reason")).as(response.body()).isInstanceOf(String.class).asString().matches("[A-Z][A-Za-z]+");
                assertThat(error.get("message")).as(response.body()).isInstanceOf(String.class).asString().isNotBlank();
            }
        }
        assertThat(get(url + "/healthz").statusCode()).isEqualTo(200);
        awaitSucceeded(uidsByName(validNames));
        LOG.info("reliability figures entry=alertmanager inputs={} status-codes={} valid-interleaved={} shapes={}", inputs, codes,
                validNames.size(), shapes);
    }

    @Test
    void shouldAnswerAnOversizedAlertPostWith413AndAReason() throws Exception {
        byte[] oversized = ("[" + "{\"labels\": {}},".repeat(200_000) + "{}]").getBytes(StandardCharsets.UTF_8);

        // an Alertmanager retries on the same keep-alive connection pool, between ordinary posts
        for (int i = 0; i < 10; i++) {
            assertThat(post("http://127.0.0.1:" + bridge.httpPort() + "/webhook", "[]").statusCode()).isEqualTo(200);
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + bridge.httpPort() + "/webhook"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(oversized)).build(), HttpResponse.BodyHandlers.ofString());

            assertThat(response.statusCode()).isEqualTo(413);
            assertThat(response.body()).contains("2097152");
        }
    }

    // ---- Abnormal CRs ----

    @Test
    void shouldFailInvalidAbnormalCrsWithAReasonInTheirStatus() {
        Garbage garbage = new Garbage(SEED + 2);
        int inputs = 150;
        Map<String, Integer> shapes = new TreeMap<>();
        List<String> names = new ArrayList<>();
        List<String> valid = new ArrayList<>();
        for (int i = 0; i < inputs; i++) {
            if (i % 15 == 0) {
                AbnormalSpec spec = Components.abnormal("x", NODE, false).getSpec();
                valid.add(kube.resource(Components.abnormal("valid-cr-" + i, "default", spec)).create().getMetadata().getUid());
            }
            AbnormalSpec spec = new AbnormalSpec();
            spec.nodeName = NODE;
            String shape = garbage.pick(List.of("no-node", "missing-pod", "empty-command", "bad-command-type", "two-profiler-targets",
                    "unnamed-profiler", "unknown-source", "half-reference", "negative-timeout", "mismatched-node-label"));
            switch (shape) {
                case "no-node" -> spec.nodeName = null;
                case "missing-pod" -> {
                    spec.nodeName = null;
                    spec.podReference = new PodReference();
                    spec.podReference.name = "ghost-" + i;
                }
                case "empty-command" -> spec.commandExecutors = List.of(command(List.of(), "InformationCollector", null));
                case "bad-command-type" -> spec.commandExecutors = List.of(command(List.of("uname"), "Cleanup", null));
                case "two-profiler-targets" -> {
                    ProfilerSpec profiler = new ProfilerSpec();
                    profiler.name = "p";
                    profiler.type = "InformationCollector";
                    profiler.go = new ProfilerSpec.GoProfilerSpec();
                    profiler.java = new ProfilerSpec.JavaProfilerSpec();
                    spec.profilers = List.of(profiler);
                }
                case "unnamed-profiler" -> {
                    ProfilerSpec profiler = new ProfilerSpec();
                    profiler.type = "Diagnoser";
                    profiler.go = new ProfilerSpec.GoProfilerSpec();
                    spec.profilers = List.of(profiler);
                }
                case "unknown-source" -> spec.source = "Telepathy";
                case "half-reference" -> spec.assignedDiagnosers = List.of(new NamespacedName(null, "process-match-diagnoser"));
                case "negative-timeout" -> spec.commandExecutors = List.of(command(List.of("uname"), "Diagnoser", -garbage.nextInt(100) - 1));
                default -> spec.assignedInformationCollectors = List.of(new NamespacedName("", ""));
            }
            shapes.merge(shape, 1, Integer::sum);
            String name = "bad-cr-" + i;
            names.add(name);
            kube.resource(Components.abnormal(name, "default", spec)).create();
        }

        Map<String, Integer> reasons = new TreeMap<>();
        await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            reasons.clear();
            for (String name : names) {
                Abnormal cr = kube.resources(Abnormal.class).inNamespace("default").withName(name).get();
                assertThat(cr.getStatus()).as(name).isNotNull();
                assertThat(cr.getStatus().phase).as(name).isEqualTo("Failed");
                assertThat(cr.getStatus().reason).as(name).matches("[A-Z][A-Za-z]+");
                assertThat(cr.getStatus().message).as(name).isNotBlank();
                reasons.merge(cr.getStatus().reason, 1, Integer::sum);
            }
        });
        awaitSucceeded(valid);
        LOG.info("reliability figures entry=abnormal-cr inputs={} failed-with-reason={} valid-interleaved={} shapes={} reasons={}",
                inputs, names.size(), valid.size(), shapes, reasons);
    }

    private static CommandExecutorSpec command(List<String> command, String type, Integer timeout) {
        CommandExecutorSpec spec = new CommandExecutorSpec();
        spec.command = command;
        spec.type = type;
        spec.timeoutSeconds = timeout;
        return spec;
    }

    // ---- AbnormalSource rules and Kubernetes Events ----

    @Test
    void shouldAnnotateBrokenRulesAndCountUnusableEventsWhileValidEventsRun() {
        Garbage garbage = new Garbage(SEED + 3);
        int rules = 60;
        Map<String, Integer> ruleShapes = new TreeMap<>();
        List<String> broken = new ArrayList<>();
        for (int i = 0; i < rules; i++) {
            String shape = garbage.pick(List.of("invalid-regex", "unknown-field", "wrong-type", "unknown-type", "bad-processor", "no-template"));
            String spec = switch (shape) {
                case "invalid-regex" -> """
                        {"sourceTemplate": {"type": "KubernetesEvent", "kubernetesEventTemplate": {"regexp": {"reason": "%s"}}}}"""
                        .formatted(garbage.pick(List.of("Back(Off", "[z-a]", "*x", "(?<n>a", "a{2,1}", "\\\\")));
                case "unknown-field" -> """
                        {"sourceTemplate": {"type": "KubernetesEvent", "kubernetesEventTemplate": {"regexp": {"firstSeen": "x"}}}}""";
                case "wrong-type" -> """
                        {"sourceTemplate": {"type": "PrometheusAlert", "prometheusAlertTemplate": {"regexp": {"labels": "severity"}}}}""";
                case "unknown-type" -> """
                        {"sourceTemplate": {"type": "Carrier Pigeon"}}""";
                case "bad-processor" -> """
                        {"sourceTemplate": {"type": "KubernetesEvent", "kubernetesEventTemplate": {"regexp": {"reason": "x"}}},
                         "assignedDiagnosers": [{"name": "no-namespace"}]}""";
                default -> """
                        {"sourceTemplate": {"type": "KubernetesEvent"}, "commandExecutors": [{"command": [], "type": "Diagnoser"}]}""";
            };
            ruleShapes.merge(shape, 1, Integer::sum);
            String name = "broken-" + i;
            broken.add(name);
            rule(name, spec);
        }

        int events = 100;
        Map<String, Integer> eventShapes = new TreeMap<>();
        List<String> validNames = new ArrayList<>();
        for (int i = 0; i < events; i++) {
            if (i % 10 == 0) {
                String name = "valid-event-" + i;
                kube.v1().events().inNamespace("default").resource(new EventBuilder().withNewMetadata().withName(name).endMetadata()
                        .withReason("ReliabilityProbe").withType("Warning").withMessage("probe").withCount(1)
                        .withNewSource().withComponent("kubelet").withHost(NODE).endSource().build()).create();
                validNames.add("kubernetes-event.default." + name);
            }
            EventBuilder event = new EventBuilder().withNewMetadata().withName("odd-event-" + i).endMetadata()
                    .withReason("ReliabilityProbe").withType(garbage.pick(List.of("Warning", "Normal", "", "\u0000")));
            String shape = garbage.pick(List.of("no-node", "ghost-pod", "huge-message", "binary-message", "negative-count", "bare"));
            switch (shape) {
                case "no-node" -> event.withNewSource().withComponent("kubelet").endSource().withMessage("m");
                case "ghost-pod" -> event.withNewInvolvedObject().withKind("Pod").withNamespace("default").withName("ghost-" + i)
                        .endInvolvedObject();
                case "huge-message" -> event.withMessage("m".repeat(100_000));
                case "binary-message" -> event.withMessage(new String(garbage.bytes(300), StandardCharsets.ISO_8859_1));
                case "negative-count" -> event.withCount(-garbage.nextInt(1000)).withNewInvolvedObject().withKind("Node").endInvolvedObject();
                default -> { }
            }
            eventShapes.merge(shape, 1, Integer::sum);
            kube.v1().events().inNamespace("default").resource(event.build()).create();
        }

        await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            for (String name : broken) {
                GenericKubernetesResource rule = kube.genericKubernetesResources(ABNORMAL_SOURCES).inNamespace(RULES_NS).withName(name).get();
                assertThat(rule.getMetadata().getAnnotations()).as(name).extractingByKey("kdiag.io/rule-error").asString().isNotBlank();
            }
        });
        awaitSucceeded(uidsByName(validNames));
        double unforwarded = bridgeMetrics.find("kdiag.bridge.unforwarded").tag("source", "kubernetes-event").counters().stream()
                .mapToDouble(Counter::count).sum();
        assertThat(unforwarded).as("events without a node, counted").isGreaterThan(0);
        LOG.info("reliability figures entry=abnormal-source inputs={} annotated={} shapes={}", rules, broken.size(), ruleShapes);
        LOG.info("reliability figures entry=kubernetes-event inputs={} unforwarded-counted={} valid-interleaved={} shapes={}", events,
                (long) unforwarded, validNames.size(), eventShapes);
    }

    private static void rule(String name, String spec) {
        GenericKubernetesResource rule = new GenericKubernetesResourceBuilder().withApiVersion(Abnormal.API_VERSION).withKind("AbnormalSource")
                .withNewMetadata().withNamespace(RULES_NS).withName(name).endMetadata()
                .addToAdditionalProperties("spec", ApiSerialization.jsonObject(spec)).build();
        kube.genericKubernetesResources(ABNORMAL_SOURCES).inNamespace(RULES_NS).resource(rule).create();
    }

    // ---- log lines ----

    private static LogSource startLogSource(Map<String, Object> kafkaSettings) throws Exception {
        Path monitor = dir.resolve("etc/reliability-monitor.json");
        Files.createDirectories(monitor.getParent());
        Files.writeString(monitor, """
                {"plugin": "filelog", "logPath": "/var/log/reliability.log", "lookback": "5m", "bufferSize": 10, "source": "reliability",
                 "pluginConfig": {"message": "^app: (.*)"}, "conditions": [],
                 "rules": [{"type": "temporary", "reason": "ReliabilityProbe", "pattern": "reliability probe \\\\d+ fired"}]}""");
        Path templates = dir.resolve("etc/templates.json");
        Files.writeString(templates, """
                {"namespace": "default", "templates": {"ReliabilityProbe": {
                  "assignedInformationCollectors": [{"namespace": "kube-diagnoser", "name": "reliability-collector"}], "skipRecovery": true}}}""");
        Files.createDirectories(dir.resolve("host/var/log"));
        Files.writeString(dir.resolve("host/var/log/reliability.log"), "");
        Map<String, String> properties = new HashMap<>(Map.of("kdiag.node-name", NODE, "kdiag.host-root", dir.resolve("host").toString(),
                "kdiag.log.state-dir", dir.resolve("log-state").toString(), "kdiag.log.monitors", monitor.toString(),
                "kdiag.log.templates", templates.toString(), "kdiag.log.poll-interval", "100ms", "kdiag.repeat-interval", "1ms",
                "kdiag.kubernetes", "off", "kdiag.storm.per-node-per-minute", "100000", "kdiag.storm.cluster-per-minute", "100000"));
        return LogSource.start(LogSourceConfig.from(ConfigSource.of(properties, Map.of())), kafkaSettings,
                new SimpleMeterRegistry(), null);
    }

    @Test
    void shouldSkipGarbageLogLinesAndStartAnAbnormalForEachMatchingOne() throws Exception {
        Garbage garbage = new Garbage(SEED + 4);
        Path log = dir.resolve("host/var/log/reliability.log");
        int inputs = 150;
        int validLines = 0;
        Map<String, Integer> shapes = new TreeMap<>();
        for (int i = 0; i < inputs; i++) {
            if (i % 15 == 0) {
                Files.writeString(log, "app: reliability probe " + i + " fired\n", StandardOpenOption.APPEND);
                validLines++;
            }
            String shape = garbage.pick(List.of("random-bytes", "huge-line", "near-miss", "no-prefix", "nul-and-cr", "unterminated-utf8"));
            byte[] line = switch (shape) {
                case "random-bytes" -> garbage.bytes(400);
                case "huge-line" -> ("app: " + "z".repeat(200_000)).getBytes(StandardCharsets.UTF_8);
                case "near-miss" -> ("app: reliability probe " + i + " fired!").getBytes(StandardCharsets.UTF_8);
                case "no-prefix" -> ("reliability probe " + i + " fired").getBytes(StandardCharsets.UTF_8);
                case "nul-and-cr" -> ("app: \u0000\r\u0000 probe\r").getBytes(StandardCharsets.UTF_8);
                default -> new byte[] {'a', 'p', 'p', ':', ' ', (byte) 0xe2, (byte) 0x82};
            };
            shapes.merge(shape, 1, Integer::sum);
            byte[] withNewline = java.util.Arrays.copyOf(line, line.length + 1);
            withNewline[line.length] = '\n';
            Files.write(log, withNewline, StandardOpenOption.APPEND);
        }
        int expected = validLines;
        Map<String, AbnormalStatus> statuses = await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).until(client::statuses,
                s -> s.values().stream().filter(st -> st.getName().startsWith("log.reliabilityprobe.") && st.getPhase() == Phase.Succeeded)
                        .count() >= expected);
        assertThat(statuses.values().stream().filter(st -> st.getName().startsWith("log.reliabilityprobe.")).count())
                .as("abnormals from log lines: the matching lines only").isEqualTo(expected);
        assertThat(logSource.failed()).as("the log source still runs").isNotDone();
        LOG.info("reliability figures entry=log-line inputs={} abnormals-from-garbage=0 valid-interleaved={} shapes={}", inputs,
                expected, shapes);
    }

    // ---- remote processor answers ----

    /** A processor that answers each abnormal {@code remote-<n>} with garbage of kind n mod 12. */
    private static HttpServer startGarbageProcessor() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/diagnose", exchange -> {
            try (exchange) {
                String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                Matcher m = REMOTE_KIND.matcher(body);
                int kind = m.find() ? Integer.parseInt(m.group(1)) % 12 : 0;
                java.util.Random random = new java.util.Random(SEED + kind);
                int status = 200;
                String answer;
                switch (kind) {
                    case 0 -> answer = "this is not JSON";
                    case 1 -> {
                        status = 500;
                        answer = "internal trouble";
                    }
                    case 2 -> answer = "";
                    case 3 -> answer = body.substring(0, body.length() / 2);
                    case 4 -> answer = body.replaceFirst("\"phase\"\\s*:\\s*\"[A-Za-z]+\"", "\"phase\":\"Succeeded\"");
                    case 5 -> answer = body.replaceFirst("\"spec\"\\s*:\\s*\\{", "\"spec\":{\"podReference\":{\"name\":\"elsewhere\"},");
                    case 6 -> answer = "[1, 2, 3]";
                    case 7 -> answer = "{\"status\": {\"context\": \"" + "x".repeat(3 * 1024 * 1024) + "\"}}";
                    case 8 -> {
                        status = 404;
                        answer = "no such path";
                    }
                    // an answer without spec or status changes nothing (KubeDiag's reading); another start time does
                    case 9 -> answer = "{\"status\": {\"startTime\": \"1999-01-01T00:00:00+08:00\"}}";
                    case 10 -> answer = body.replaceFirst("\"status\"\\s*:\\s*\\{", "\"status\":{\"conditions\":\"broken\",");
                    default -> {
                        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                        for (int i = 0; i < 10; i++) {
                            bytes[random.nextInt(bytes.length)] ^= (byte) (1 << random.nextInt(8));
                        }
                        answer = new String(bytes, StandardCharsets.ISO_8859_1);
                    }
                }
                byte[] out = answer.getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(status, out.length == 0 ? -1 : out.length);
                if (out.length > 0) {
                    exchange.getResponseBody().write(out);
                }
            }
        });
        server.start();
        return server;
    }

    @Test
    void shouldFailAStepOnEveryGarbageAnswerOfARemoteProcessorAndKeepRunning() {
        int inputs = 96;
        List<String> uids = new ArrayList<>();
        List<String> valid = new ArrayList<>();
        for (int i = 0; i < inputs; i++) {
            if (i % 12 == 0) {
                valid.add(client.publish(Components.abnormal("valid-remote-" + i, NODE, false)));
            }
            AbnormalSpec spec = new AbnormalSpec();
            spec.nodeName = NODE;
            spec.skipInformationCollection = true;
            spec.assignedDiagnosers = List.of(new NamespacedName("team", "garbage-diagnoser"));
            uids.add(client.publish(Components.abnormal("remote-" + i, "default", spec)));
        }
        Map<String, AbnormalStatus> statuses = Invariants.awaitFinal(client, uids, Duration.ofSeconds(90));
        Replay replay = Replay.read(client);
        Map<String, Integer> reasons = new TreeMap<>();
        for (String uid : uids) {
            assertThat(statuses.get(uid).getPhase()).as(statuses.get(uid).getName()).isEqualTo(Phase.Failed);
            ProcessorFinished finished = replay.events(uid).stream().map(DiagnosisEvent::getPayload)
                    .filter(p -> p instanceof ProcessorFinished f && f.getStage() == Stage.Diagnosis).map(ProcessorFinished.class::cast)
                    .findFirst().orElseThrow();
            assertThat(finished.getSucceeded()).as(uid).isFalse();
            assertThat(finished.getReason()).as(uid).isIn(REMOTE_REASONS);
            assertThat(finished.getMessage()).as(uid).isNotBlank();
            reasons.merge(finished.getReason(), 1, Integer::sum);
        }
        awaitSucceeded(valid);
        LOG.info("reliability figures entry=remote-processor inputs={} failed-with-reason={} valid-interleaved={} reasons={}", inputs,
                uids.size(), valid.size(), reasons);
    }

    // ---- helpers ----

    private static void awaitSucceeded(List<String> uids) {
        Map<String, AbnormalStatus> statuses = Invariants.awaitFinal(client, uids, WAIT);
        assertThat(uids).allSatisfy(uid -> assertThat(statuses.get(uid).getPhase()).as(uid).isEqualTo(Phase.Succeeded));
    }

    /** The uids of the abnormals of these names (namespace of events and alerts), once each has a status. */
    private static List<String> uidsByName(List<String> names) {
        Map<String, AbnormalStatus> statuses = await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).until(client::statuses,
                s -> names.stream().allMatch(n -> s.values().stream().anyMatch(st -> st.getName().equals(n))));
        return names.stream().map(n -> statuses.values().stream().filter(st -> st.getName().equals(n)).findFirst().orElseThrow().getUid())
                .toList();
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String url, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
