package io.kdiag.cli.e2e;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.nodeagent.NodeAgentConfig;
import io.kdiag.schemas.Topics;
import io.kdiag.sourcebridge.SourceBridge;
import io.kdiag.sourcebridge.SourceBridgeConfig;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.statuswriter.StatusWriterConfig;
import io.kdiag.testkit.TestKafka;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The whole pipeline against a mock Kubernetes API: a broker, a CRUD-mode API server with the CRDs of
 * {@code deploy/base/crds}, and the source bridge, one node agent and the status writer connected to it. The bridge
 * and the agent connect through their public entry points ({@code kdiag.kubernetes=on}) to a kubeconfig naming the
 * mock server; the status writer gets a client.
 *
 * <p>The CRUD mock matches field selectors against a resource's name and namespace only, so the agent's pod list
 * ({@code fieldSelector=spec.nodeName=<node>}) would come back empty: {@link NodeSelectingDispatcher} answers it.
 */
final class E2ePipeline implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(45);
    private static final Topics TOPICS = Topics.withDefaultPrefix();
    private static final String ABNORMAL_API = "diagnosis.netease.com/v1";
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    private final Path state;
    private final TestKafka kafka;
    private final KubernetesMockServer server;
    private final KubernetesClient kube;
    private final Path kubeconfig;
    private StatusWriter writer;
    private SourceBridge bridge;
    private NodeAgent agent;

    private E2ePipeline(Path state, TestKafka kafka, KubernetesMockServer server, KubernetesClient kube, Path kubeconfig) {
        this.state = state;
        this.kafka = kafka;
        this.server = server;
        this.kube = kube;
        this.kubeconfig = kubeconfig;
    }

    /** Starts the broker and the API server with the CRDs registered; the components start with {@link #start}. */
    static E2ePipeline cluster(Path state) throws IOException {
        TestKafka kafka = TestKafka.start();
        TopicAdmin.ensureTopics(Map.of("bootstrap.servers", kafka.bootstrapServers()), TOPICS, 12, (short) 1);
        KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new NodeSelectingDispatcher(), false);
        server.init();
        KubernetesClient kube = server.createClient();
        try (Stream<Path> crds = Files.list(Path.of("..", "deploy", "base", "crds"))) {
            for (Path crd : crds.sorted().toList()) {
                kube.apiextensions().v1().customResourceDefinitions().load(crd.toFile()).create();
            }
        }
        Path kubeconfig = state.resolve("kubeconfig");
        Files.writeString(kubeconfig, """
                apiVersion: v1
                kind: Config
                clusters: [{name: mock, cluster: {server: "%s"}}]
                users: [{name: mock, user: {token: e2e}}]
                contexts: [{name: mock, context: {cluster: mock, user: mock, namespace: default}}]
                current-context: mock
                """.formatted(server.url("/")));
        return new E2ePipeline(state, kafka, server, kube, kubeconfig);
    }

    /** A client of the mock API server. */
    KubernetesClient kube() {
        return kube;
    }

    /** Creates pods as given (status, deletion timestamp and uid included) and returns them as the server keeps them. */
    List<Pod> createPods(List<Pod> pods) {
        return pods.stream().map(p -> kube.resource(p).create()).toList();
    }

    /**
     * Starts the status writer, the bridge and the agent of {@code node} with host root {@code hostRoot}, and waits
     * until the agent is ready (partition assigned, pod informer synced).
     */
    void start(String node, Path hostRoot) {
        Map<String, Object> settings = Map.of("bootstrap.servers", kafka.bootstrapServers());
        Map<String, String> env = new HashMap<>();
        env.put("KDIAG_NODE_NAME", node);
        env.put("KDIAG_HOST_ROOT", hostRoot.toString());
        env.put("KDIAG_HTTP_PORT", "0");
        env.put("KDIAG_KUBERNETES", "on");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        writer = StatusWriter.start(StatusWriterConfig.from(config(env, "status-writer")), settings, registry, kube);
        // the bridge and the agent build their own clients (fabric8 auto-configuration), from this kubeconfig
        String previous = System.setProperty(Config.KUBERNETES_KUBECONFIG_FILE, kubeconfig.toString());
        try {
            bridge = SourceBridge.start(SourceBridgeConfig.from(config(env, "bridge")), settings, registry);
            agent = NodeAgent.start(NodeAgentConfig.from(config(env, "agent")), settings, registry);
        } finally {
            if (previous == null) {
                System.clearProperty(Config.KUBERNETES_KUBECONFIG_FILE);
            } else {
                System.setProperty(Config.KUBERNETES_KUBECONFIG_FILE, previous);
            }
        }
        HttpClient http = HttpClient.newHttpClient();
        URI readyz = URI.create("http://127.0.0.1:" + agent.httpPort() + "/readyz");
        await().atMost(WAIT).until(() -> http.send(HttpRequest.newBuilder(readyz).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
    }

    private ConfigSource config(Map<String, String> env, String dir) {
        Map<String, String> copy = new HashMap<>(env);
        copy.put("KDIAG_STATE_DIR", state.resolve(dir).toString());
        return ConfigSource.of(Map.of(), copy);
    }

    /** Creates an Abnormal CR from a test resource, byte for byte as the file has it. */
    Abnormal createAbnormal(String resource) {
        try (InputStream in = resource(resource)) {
            return kube.resources(Abnormal.class).load(in).create();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits for the CR's status to reach {@code Succeeded} or {@code Failed} and returns the CR as the server has it. */
    GenericKubernetesResource awaitFinished(String namespace, String name) {
        await().atMost(WAIT).until(() -> {
            Abnormal cr = kube.resources(Abnormal.class).inNamespace(namespace).withName(name).get();
            return cr != null && cr.getStatus() != null
                    && ("Succeeded".equals(cr.getStatus().phase) || "Failed".equals(cr.getStatus().phase));
        });
        return kube.genericKubernetesResources(ABNORMAL_API, "Abnormal").inNamespace(namespace).withName(name).get();
    }

    /** A test resource of this package's folder, {@code e2e/}. */
    static InputStream resource(String name) {
        InputStream in = E2ePipeline.class.getResourceAsStream("/e2e/" + name);
        if (in == null) {
            throw new IllegalArgumentException("no test resource e2e/" + name);
        }
        return in;
    }

    /** Reads a test resource as a generic Kubernetes object. */
    GenericKubernetesResource read(String name) {
        try (InputStream in = resource(name)) {
            return kube.getKubernetesSerialization().unmarshal(in, GenericKubernetesResource.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The CRUD mock with pod lists selected by {@code spec.nodeName}, as the API server selects them. Watches get
     * every pod: tests create their pods before the agent lists them, so no other node's pod is ever watched.
     */
    private static final class NodeSelectingDispatcher extends KubernetesCrudDispatcher {
        private static final Pattern NODE_SELECTOR = Pattern.compile("fieldSelector=spec\\.nodeName(?:%3D|=)([^&]*)");

        @Override
        public MockResponse handleGet(String path) {
            Matcher selector = NODE_SELECTOR.matcher(path);
            if (!selector.find()) {
                return super.handleGet(path);
            }
            String node = URLDecoder.decode(selector.group(1), StandardCharsets.UTF_8);
            MockResponse response = super.handleGet(withoutSelector(selector));
            if (response.code() != 200) {
                return response;
            }
            PodList pods = SERIALIZATION.unmarshal(response.getBody().readUtf8(), PodList.class);
            pods.getItems().removeIf(pod -> !node.equals(pod.getSpec().getNodeName()));
            return response.setBody(SERIALIZATION.asJson(pods));
        }

        @Override
        public MockResponse handleWatch(String path) {
            Matcher selector = NODE_SELECTOR.matcher(path);
            return super.handleWatch(selector.find() ? withoutSelector(selector) : path);
        }

        private static String withoutSelector(Matcher selector) {
            return selector.replaceFirst("").replace("?&", "?").replace("&&", "&").replaceFirst("[?&]$", "");
        }
    }

    @Override
    public void close() {
        for (AutoCloseable c : new AutoCloseable[] {agent, bridge, writer, kube}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // keep closing the rest
            }
        }
        server.destroy();
        kafka.close();
    }
}
