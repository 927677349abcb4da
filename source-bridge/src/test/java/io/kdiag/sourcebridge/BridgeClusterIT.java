package io.kdiag.sourcebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
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
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.kdiag.api.Annotations;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.AbnormalStatus;
import io.kdiag.api.v1.PodReference;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.common.metrics.KubeDiagMetric;
import io.kdiag.common.metrics.KubeDiagMetrics;
import io.kdiag.schemas.DeadLetterHeaders;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.sourcebridge.gate.BridgeMetrics;
import io.kdiag.sourcebridge.kubernetes.EventSource;
import io.kdiag.sourcebridge.rules.RuleBook;
import io.kdiag.sourcebridge.rules.SourceRule;
import io.kdiag.testkit.TestKafka;
import io.kdiag.testkit.TestKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every cluster source end to end: fabric8's CRUD mock API server with the CRDs registered, and a real broker. */
class BridgeClusterIT {
    private static final int PARTITIONS = 3;
    private static final String NS = "kube-diagnoser";
    private static TestKafka kafka;
    private static int run;
    private KubernetesMockServer server;
    private KubernetesClient client;
    private String prefix;
    private Topics topics;

    @BeforeAll
    static void startKafka() {
        kafka = TestKafka.start();
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    @BeforeEach
    void startCluster() throws IOException {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init();
        client = server.createClient();
        try (Stream<Path> files = Files.list(Path.of("../deploy/base/crds"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yml")).toList()) {
                CustomResourceDefinition crd = client.apiextensions().v1().customResourceDefinitions().load(file.toFile()).item();
                client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
            }
        }
        prefix = "cluster" + (++run) + ".";
        topics = new Topics(prefix);
        TopicAdmin.ensureTopics(Map.of("bootstrap.servers", kafka.bootstrapServers()), topics, PARTITIONS, (short) 1);
    }

    @AfterEach
    void stopCluster() {
        client.close();
        server.destroy();
    }

    private SourceBridge start(SimpleMeterRegistry registry, String... settings) {
        Map<String, String> properties = new HashMap<>(Map.of("kdiag.topic-prefix", prefix, "kdiag.http-port", "0",
                "kdiag.signing-key", TestKeys.signingKeyFile().toString()));
        for (int i = 0; i < settings.length; i += 2) {
            properties.put(settings[i], settings[i + 1]);
        }
        return SourceBridge.start(SourceBridgeConfig.from(ConfigSource.of(properties, Map.of())),
                Map.of("bootstrap.servers", kafka.bootstrapServers()), registry, client);
    }

    private List<AbnormalRequest> awaitForwarded(int count) {
        return Committed.awaitAtLeast(kafka.bootstrapServers(), topics.abnormals().name(), PARTITIONS, count);
    }

    private List<AbnormalRequest> awaitSteady(int count) {
        return Committed.awaitSteady(kafka.bootstrapServers(), topics.abnormals().name(), PARTITIONS, count);
    }

    private Abnormal abnormal(String namespace, String name, String node, PodReference pod, Map<String, String> annotations) {
        Abnormal abnormal = new Abnormal();
        abnormal.getMetadata().setNamespace(namespace);
        abnormal.getMetadata().setName(name);
        abnormal.getMetadata().setAnnotations(annotations);
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = node;
        spec.podReference = pod;
        spec.skipRecovery = true;
        abnormal.setSpec(spec);
        return client.resource(abnormal).create();
    }

    private void rule(String name, String spec) {
        GenericKubernetesResource rule = new GenericKubernetesResourceBuilder().withApiVersion(Abnormal.API_VERSION).withKind("AbnormalSource")
                .withNewMetadata().withNamespace(NS).withName(name).endMetadata()
                .addToAdditionalProperties("spec", ApiSerialization.jsonObject(spec)).build();
        client.genericKubernetesResources(RuleBook.ABNORMAL_SOURCES).inNamespace(NS).resource(rule).create();
    }

    private void event(String name, String reason, String host, int count) {
        client.v1().events().inNamespace("default").resource(new EventBuilder().withNewMetadata().withName(name).endMetadata()
                .withReason(reason).withType("Warning").withMessage(reason + " happened").withCount(count)
                .withNewInvolvedObject().withKind("Pod").withNamespace("default").withName("web-0").endInvolvedObject()
                .withNewSource().withComponent("kubelet").withHost(host).endSource().build()).create();
    }

    private Abnormal get(String namespace, String name) {
        return client.resources(Abnormal.class).inNamespace(namespace).withName(name).get();
    }

    @Test
    void shouldForwardNewAbnormalCrsByNodeOnceAndFailThoseWithoutANode() {
        client.pods().inNamespace("default").resource(new PodBuilder().withNewMetadata().withName("web-0").endMetadata()
                .withNewSpec().withNodeName("node-p").endSpec().build()).create();
        PodReference web0 = new PodReference();
        web0.name = "web-0";
        PodReference ghost = new PodReference();
        ghost.name = "ghost";
        Abnormal byNode = abnormal("default", "by-node", "node-1", null, null);
        Abnormal byPod = abnormal("default", "by-pod", null, web0, null);
        abnormal("default", "nowhere", null, null, null);
        abnormal("default", "ghost-pod", null, ghost, null);
        abnormal(NS, "mirrored", "node-1", null, Map.of(Annotations.UID, "already-running"));
        Abnormal done = abnormal("default", "done", "node-1", null, null);
        AbnormalStatus succeeded = new AbnormalStatus();
        succeeded.phase = "Succeeded";
        done.setStatus(succeeded);
        client.resource(done).patchStatus();

        try (SourceBridge bridge = start(new SimpleMeterRegistry())) {
            List<AbnormalRequest> forwarded = awaitForwarded(2);
            assertThat(forwarded).extracting(AbnormalRequest::getUid)
                    .containsExactlyInAnyOrder(byNode.getMetadata().getUid(), byPod.getMetadata().getUid());
            assertThat(forwarded).extracting(AbnormalRequest::getNodeName).containsExactlyInAnyOrder("node-1", "node-p");
            assertThat(forwarded).extracting(AbnormalRequest::getOrigin).containsOnly(Origin.CustomResource);
            await().atMost(Committed.WAIT).untilAsserted(() -> {
                assertThat(get("default", "nowhere").getStatus()).extracting(s -> s.phase, s -> s.reason)
                        .containsExactly("Failed", "NodeNotFound");
                assertThat(get("default", "ghost-pod").getStatus()).extracting(s -> s.phase, s -> s.reason)
                        .containsExactly("Failed", "PodNotFound");
                assertThat(get("default", "ghost-pod").getStatus().message).contains("default/ghost");
            });
        }
        // a restart relists every Abnormal: none runs a second time, and no CR is mirrored for CRs
        try (SourceBridge again = start(new SimpleMeterRegistry())) {
            awaitSteady(2);
            assertThat(client.resources(Abnormal.class).inAnyNamespace().list().getItems()).hasSize(6);
        }
    }

    @Test
    void shouldTurnMatchingEventsIntoAbnormalsWithTheirCrsAndReportBrokenRules() {
        rule("unhealthy-source", """
                {"sourceTemplate": {"type": "KubernetesEvent", "kubernetesEventTemplate": {"regexp": {"reason": "Unhealthy",
                   "source": {"component": "kubelet"}}}},
                 "assignedInformationCollectors": [{"namespace": "kube-diagnoser", "name": "pod-collector"}]}""");
        rule("broken", """
                {"sourceTemplate": {"type": "KubernetesEvent", "kubernetesEventTemplate": {"regexp": {"reason": "Back(Off"}}}}""");
        event("web-0.unhealthy", "Unhealthy", "node-1", 1);
        event("web-0.backoff", "BackOff", "node-1", 1);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();

        try (SourceBridge bridge = start(registry)) {
            AbnormalRequest request = awaitForwarded(1).get(0);
            assertThat(request.getName()).isEqualTo("kubernetes-event.default.web-0.unhealthy");
            assertThat(request.getNamespace()).isEqualTo(NS);
            assertThat(request.getNodeName()).isEqualTo("node-1");
            assertThat(request.getOrigin()).isEqualTo(Origin.KubernetesEvent);
            assertThat(ApiSerialization.spec(request.getSpec()).assignedInformationCollectors).extracting(n -> n.name)
                    .containsExactly("pod-collector");
            await().atMost(Committed.WAIT).untilAsserted(() -> {
                Abnormal cr = get(NS, "kubernetes-event.default.web-0.unhealthy");
                assertThat(cr).isNotNull();
                assertThat(cr.getMetadata().getAnnotations()).containsEntry(Annotations.UID, request.getUid())
                        .containsEntry(Annotations.ORIGIN, "KubernetesEvent");
                GenericKubernetesResource broken = client.genericKubernetesResources(RuleBook.ABNORMAL_SOURCES)
                        .inNamespace(NS).withName("broken").get();
                assertThat(broken.getMetadata().getAnnotations().get(SourceRule.RULE_ERROR))
                        .startsWith("spec.sourceTemplate.kubernetesEventTemplate.regexp.reason is not a valid RE2 regular expression");
                GenericKubernetesResource used = client.genericKubernetesResources(RuleBook.ABNORMAL_SOURCES)
                        .inNamespace(NS).withName("unhealthy-source").get();
                // an object, as KubeDiag's ObjectMeta: name, namespace, the uid it runs under, when it was forwarded
                Map<String, Object> lastAbnormal = ApiSerialization.jsonObject(ApiSerialization.json(
                        ((Map<?, ?>) used.getAdditionalProperties().get("status")).get("lastAbnormal")));
                assertThat(lastAbnormal).containsEntry("name", request.getName()).containsEntry("namespace", NS)
                        .containsEntry("annotations", Map.of(Annotations.UID, request.getUid())).containsKey("creationTimestamp");
            });
            // the same event seen again (count 2) within the repeat interval starts nothing more
            client.v1().events().inNamespace("default").withName("web-0.unhealthy").edit(e -> {
                e.setCount(2);
                return e;
            });
            await().atMost(Committed.WAIT).until(() -> registry.find(BridgeMetrics.SUPPRESSED)
                    .tags("source", EventSource.SOURCE, "reason", "repeat-interval").counter() != null);
            awaitSteady(1);
        }
    }

    @Test
    void shouldForwardFiringAlertsOfEitherShapeAndIgnoreResolvedOnes() throws Exception {
        rule("pod-not-ready-source", """
                {"sourceTemplate": {"type": "PrometheusAlert", "prometheusAlertTemplate": {
                   "regexp": {"alertName": "KubePodNotReady"}, "nodeNameReferenceLabel": "node"}}}""");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();

        try (SourceBridge bridge = start(registry)) {
            await().atMost(Committed.WAIT).until(() -> post(bridge, "/healthz", null).statusCode() == 200);
            HttpResponse<String> webhook = post(bridge, "/webhook", Samples.WEBHOOK_V4.replace("0001-01-01T00:00:00Z", ""));
            assertThat(webhook.statusCode()).isEqualTo(200);
            assertThat(ApiSerialization.jsonObject(webhook.body())).containsEntry("alerts", 2).containsEntry("forwarded", 1)
                    .containsEntry("resolved", 1);
            AbnormalRequest request = awaitForwarded(1).get(0);
            assertThat(request.getName()).isEqualTo("prometheus-alert.kubepodnotready.c0ffee0");
            assertThat(request.getNodeName()).isEqualTo("node-1");
            assertThat(request.getOrigin()).isEqualTo(Origin.PrometheusAlert);
            assertThat(ApiSerialization.spec(request.getSpec()).prometheusAlert.labels).containsEntry("alertname", "KubePodNotReady");

            // the v1 list on the original path, alert by alert: a firing alert with a node, one without, one resolved, one
            // without labels, one that does not match
            HttpResponse<String> v1 = post(bridge, "/api/v1/alerts", """
                    [{"labels": {"alertname": "KubePodNotReady", "node": "node-2"}, "startsAt": "2026-03-01T11:40:00Z"},
                     {"labels": {"alertname": "KubePodNotReady", "severity": "critical"}},
                     {"labels": {"alertname": "KubePodNotReady", "node": "node-3"}, "endsAt": "2020-01-01T00:00:00Z"},
                     {"annotations": {"summary": "no labels at all"}},
                     {"labels": {"alertname": "Watchdog"}}]""");
            assertThat(v1.statusCode()).isEqualTo(200);
            assertThat(ApiSerialization.jsonObject(v1.body())).containsEntry("alerts", 5).containsEntry("forwarded", 1)
                    .containsEntry("no-node", 1).containsEntry("resolved", 1).containsEntry("invalid", 1).containsEntry("unmatched", 1);
            // Alertmanager repeating the same firing alert: within the repeat interval, nothing new
            HttpResponse<String> repeat = post(bridge, "/api/v2/alerts", Samples.WEBHOOK_V4);
            assertThat(ApiSerialization.jsonObject(repeat.body())).containsEntry("duplicate", 1);

            HttpResponse<String> mistyped = post(bridge, "/api/v1/alerts", "[{\"labels\": {\"alertname\": 7}}]");
            assertThat(mistyped.statusCode()).isEqualTo(200);
            assertThat(ApiSerialization.jsonObject(mistyped.body())).containsEntry("alerts", 1).containsEntry("invalid", 1);
            HttpResponse<String> notJson = post(bridge, "/api/v1/alerts", "not json");
            assertThat(notJson.statusCode()).isEqualTo(400);
            assertThat(notJson.body()).contains("MalformedAlerts").contains("the body is not valid JSON");
            assertThat(awaitSteady(2)).extracting(AbnormalRequest::getNodeName).containsExactlyInAnyOrder("node-1", "node-2");

            // nothing is dropped silently: the alert without a node and the two entries that are not alerts are dead letters
            List<String> reasons = await().atMost(Committed.WAIT).until(() -> Committed.records(kafka.bootstrapServers(),
                    topics.deadLetters().name(), 1).stream().map(r -> new String(r.headers().lastHeader(DeadLetterHeaders.REASON).value(),
                    StandardCharsets.UTF_8)).toList(), r -> r.size() >= 3);
            assertThat(reasons).hasSize(3).anySatisfy(r -> assertThat(r).startsWith("NodeNotFound: alert KubePodNotReady (fingerprint ")
                    .endsWith("matched the AbnormalSource kube-diagnoser/pod-not-ready-source but names no node: it has no label node, "
                            + "nor labels namespace and pod of a pod to take the node from"))
                    .contains("InvalidShape: [3].labels.alertname is required", "InvalidShape: [0].labels.alertname must be a string, not a number");
            // and KubeDiag's counters: one per request received, one per body read, one per abnormal created
            KubeDiagMetrics kubediag = KubeDiagMetrics.of(registry);
            assertThat(kubediag.get(KubeDiagMetric.PROMETHEUS_ALERT_RECEIVED_COUNT)).isEqualTo(5);
            assertThat(kubediag.get(KubeDiagMetric.ALERTMANAGER_ABNORMAL_GENERATION_SUCCESS_COUNT)).isEqualTo(4);
            assertThat(kubediag.get(KubeDiagMetric.ALERTMANAGER_ABNORMAL_GENERATION_ERROR_COUNT)).isEqualTo(1);
            await().atMost(Committed.WAIT).untilAsserted(() -> assertThat(
                    kubediag.get(KubeDiagMetric.PROMETHEUS_ALERT_GENERATED_ABNORMAL_CREATION_COUNT)).isEqualTo(2));
        }
    }

    @Test
    void shouldMirrorAnIngestAbnormalAsACrWithoutRunningItTwice() throws Exception {
        try (SourceBridge bridge = start(new SimpleMeterRegistry());
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", kafka.bootstrapServers()),
                     new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topics.abnormalRequests().name(),
                    Samples.jsonRequest("disk-full", "node-4").getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);

            AbnormalRequest request = awaitForwarded(1).get(0);
            await().atMost(Committed.WAIT).untilAsserted(() -> assertThat(get("default", "disk-full")).isNotNull()
                    .extracting(a -> a.getMetadata().getAnnotations())
                    .isEqualTo(Map.of(Annotations.UID, request.getUid(), Annotations.ORIGIN, "IngestTopic")));
            assertThat(get("default", "disk-full").getSpec().nodeName).isEqualTo("node-4");
            awaitSteady(1);
        }
    }

    @Test
    void shouldForwardEachEventOfAStormOnceAcrossARestart() throws Exception {
        rule("warnings", """
                {"sourceTemplate": {"type": "KubernetesEvent", "kubernetesEventTemplate": {"regexp": {"type": "Warning"}}}}""");
        int total = 60;
        for (int i = 0; i < total / 2; i++) {
            event("storm-" + i, "BackOff", "node-" + (i % 4), 1);
        }
        String[] settings = {"kdiag.storm.per-node-per-minute", "1000", "kdiag.storm.cluster-per-minute", "1000"};
        try (SourceBridge first = start(new SimpleMeterRegistry(), settings)) {
            Thread more = new Thread(() -> {
                for (int i = total / 2; i < total; i++) {
                    event("storm-" + i, "BackOff", "node-" + (i % 4), 1);
                }
            });
            more.start();
            awaitForwarded(total / 3);
            more.join(); // the mock API server does not survive writes racing a closing watch
            first.close(); // in the middle of the storm: events are still being matched and forwarded
        }
        // fabric8's mock server blocks its only event loop for up to a minute when a watch closes while it still has
        // an event to send on it (WatchEventsListener.onClosed awaits, on that loop, a sender that needs the loop):
        // the second bridge starts once the server answers again
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
                .until(() -> client.v1().events().inAnyNamespace().list() != null);
        try (SourceBridge second = start(new SimpleMeterRegistry(), settings)) {
            List<AbnormalRequest> all = awaitSteady(total);
            List<String> names = new ArrayList<>(all.stream().map(AbnormalRequest::getName).toList());
            assertThat(names).doesNotHaveDuplicates().hasSize(total);
        }
    }

    @Test
    void shouldSuppressAStormBeyondThePerNodeLimitAndCountIt() {
        rule("warnings", """
                {"sourceTemplate": {"type": "KubernetesEvent", "kubernetesEventTemplate": {"regexp": {"type": "Warning"}}}}""");
        for (int i = 0; i < 5; i++) {
            event("burst-" + i, "BackOff", "node-1", 1);
        }
        SimpleMeterRegistry registry = new SimpleMeterRegistry();

        try (SourceBridge bridge = start(registry, "kdiag.storm.per-node-per-minute", "2")) {
            awaitSteady(2);
            await().atMost(Committed.WAIT).until(() -> registry.find(BridgeMetrics.SUPPRESSED)
                    .tags("source", EventSource.SOURCE, "reason", "storm-node").counter() != null
                    && registry.find(BridgeMetrics.SUPPRESSED).tags("reason", "storm-node").counter().count() == 3);
        }
    }

    @Test
    void shouldHoldTheStormLimitAcrossARestart() {
        rule("warnings", """
                {"sourceTemplate": {"type": "KubernetesEvent", "kubernetesEventTemplate": {"regexp": {"type": "Warning"}}}}""");
        String[] limit = {"kdiag.storm.per-node-per-minute", "3"};
        for (int i = 0; i < 3; i++) {
            event("before-" + i, "BackOff", "node-1", 1);
        }
        try (SourceBridge first = start(new SimpleMeterRegistry(), limit)) {
            awaitSteady(3);
        }
        // the same minute, a new bridge: the node's budget is spent, whatever this replica forwarded itself
        for (int i = 0; i < 3; i++) {
            event("after-" + i, "BackOff", "node-1", 1);
        }
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (SourceBridge second = start(registry, limit)) {
            await().atMost(Committed.WAIT).until(() -> registry.find(BridgeMetrics.SUPPRESSED).tags("reason", "storm-node").counter() != null
                    && registry.find(BridgeMetrics.SUPPRESSED).tags("reason", "storm-node").counter().count() == 3);
            awaitSteady(3);
        }
    }

    @Test
    void shouldShareTheStormLimitBetweenTwoReplicasRunningAtOnce() throws Exception {
        rule("any-alert", """
                {"sourceTemplate": {"type": "PrometheusAlert", "prometheusAlertTemplate": {
                   "regexp": {"alertName": ".*"}, "nodeNameReferenceLabel": "node"}}}""");
        int limit = 3;
        try (SourceBridge a = start(new SimpleMeterRegistry(), "kdiag.storm.per-node-per-minute", String.valueOf(limit), "kdiag.instance-id", "replica-a");
             SourceBridge b = start(new SimpleMeterRegistry(), "kdiag.storm.per-node-per-minute", String.valueOf(limit), "kdiag.instance-id", "replica-b")) {
            for (SourceBridge bridge : List.of(a, b)) {
                await().atMost(Committed.WAIT).until(() -> post(bridge, "/healthz", null).statusCode() == 200);
            }
            // Alertmanager behind a Service
            // one storm per node, each alert posted to the replica after the other: a node's budget runs out on either
            int nodes = 4;
            int perNode = 8;
            Map<String, Integer> outcomes = new HashMap<>();
            for (int node = 0; node < nodes; node++) {
                for (int i = 0; i < perNode; i++) {
                    HttpResponse<String> response = post(i % 2 == 0 ? a : b, "/api/v1/alerts",
                            "[{\"labels\": {\"alertname\": \"Storm" + i + "\", \"node\": \"node-" + node + "\"}}]");
                    assertThat(response.statusCode()).isEqualTo(200);
                    ApiSerialization.jsonObject(response.body()).forEach((outcome, n) -> outcomes.merge(outcome, ((Number) n).intValue(), Integer::sum));
                }
            }

            // each replica counts what the other started before it takes a token: together they forward the limit, not more
            assertThat(outcomes).containsEntry("forwarded", nodes * limit).containsEntry("storm-node", nodes * (perNode - limit));
            assertThat(awaitSteady(nodes * limit)).hasSize(nodes * limit);
        }
    }

    private static HttpResponse<String> post(SourceBridge bridge, String path, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + bridge.httpPort() + path));
        request = body == null ? request.GET() : request.POST(HttpRequest.BodyPublishers.ofString(body));
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
