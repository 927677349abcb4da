package io.kdiag.nodeagent.http;

import static io.kdiag.nodeagent.Fixtures.worker;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.AbnormalStatus;
import io.kdiag.api.v1.Diagnoser;
import io.kdiag.api.v1.ProcessorSpec;
import io.kdiag.nodeagent.Fixtures;
import io.kdiag.common.health.Health;
import io.kdiag.nodeagent.policy.Policy;
import io.kdiag.nodeagent.processors.BuiltIns;
import io.kdiag.nodeagent.processors.Registrations;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.RemoteProcessor;
import io.kdiag.stageworkers.WorkerCatalog;
import io.kdiag.stageworkers.WorkerRunner;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.PodSource;
import io.kdiag.stageworkers.spi.WorkResult;
import io.kdiag.testkit.HostAddresses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentHttpServerTest {
    @TempDir
    Path dir;
    private final List<String> calls = new ArrayList<>();
    private final AtomicBoolean ready = new AtomicBoolean();
    private final HttpClient client = HttpClient.newHttpClient();
    private final WorkerRunner workers = new WorkerRunner(1_000_000);
    private Supplier<Policy> policy = Fixtures::grantingEverything;
    private AgentHttpServer server;

    @BeforeEach
    void start() throws Exception {
        NodeServices node = new NodeServices(HostPaths.of(dir), 4242, PodSource.NONE);
        Diagnoser registered = new Diagnoser();
        registered.setMetadata(new ObjectMetaBuilder().withNamespace("team").withName("remote").build());
        registered.setSpec(new ProcessorSpec());
        registered.getSpec().externalIP = "10.0.0.1";
        registered.getSpec().externalPort = 80;
        Registrations registrations = new Registrations() {
            @Override
            public Optional<Registered> find(Stage stage, String namespace, String name) {
                return Optional.empty();
            }

            @Override
            public List<HasMetadata> list(Stage stage) {
                return stage == Stage.Diagnosis ? List.of(registered) : List.of();
            }
        };
        BuiltIns builtIns = new BuiltIns("kube-diagnoser", new WorkerCatalog(List.of(
                worker("fake-diagnoser", Stage.Diagnosis, calls, ctx -> WorkResult.succeeded(
                        Map.of("diagnosis", ctx.lookup("input")), Set.of("processInformation"))),
                worker("broken-collector", Stage.InformationCollection, calls, ctx -> WorkResult.failed("Broken", "it broke")))),
                workers, registrations, () -> policy.get());
        Health health = new Health(List.of(), List.of(() -> ready.get() ? Optional.empty() : Optional.of("not consuming its partition")));
        server = AgentHttpServer.start("127.0.0.1", 0, builtIns, registrations, node, "node-a", health, "secret");
    }

    @AfterEach
    void stop() {
        server.close();
        workers.close();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String body, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    private static String abnormalJson() {
        Abnormal abnormal = new Abnormal();
        abnormal.setMetadata(new ObjectMetaBuilder().withNamespace("default").withName("a").withUid("u1").build());
        abnormal.setSpec(new AbnormalSpec());
        abnormal.getSpec().context = Map.of("input", "from-spec");
        abnormal.setStatus(new AbnormalStatus());
        abnormal.getStatus().phase = "Diagnosing";
        abnormal.getStatus().context = Map.of("processInformation", List.of(1), "kept", true);
        return ApiSerialization.json(abnormal);
    }

    @Test
    void shouldAnswerHealthAndReadiness() throws Exception {
        assertThat(get("/healthz").body()).isEqualTo("{\"status\":\"ok\"}");
        HttpResponse<String> notReady = get("/readyz");
        assertThat(notReady.statusCode()).isEqualTo(503);
        assertThat(notReady.body()).contains("\"reason\":\"NotReady\"", "not consuming its partition");
        ready.set(true);
        assertThat(get("/readyz").statusCode()).isEqualTo(200);
    }

    @Test
    void shouldListBuiltInsAndRegisteredProcessors() throws Exception {
        HttpResponse<String> diagnosers = get("/diagnoser");

        assertThat(diagnosers.statusCode()).isEqualTo(200);
        List<?> items = ApiSerialization.convert(ApiSerialization.jsonObject("{\"items\":" + diagnosers.body() + "}").get("items"), List.class);
        assertThat(items).hasSize(2);
        assertThat(diagnosers.body()).contains("\"name\":\"fake-diagnoser\"", "\"path\":\"/diagnoser/fakediagnoser\"",
                "\"name\":\"remote\"", "\"externalIP\":\"10.0.0.1\"");
        assertThat(get("/recoverer").body()).isEqualTo("[]");
        assertThat(post("/diagnoser", "{}").statusCode()).isEqualTo(405);
    }

    @Test
    void shouldRunABuiltInOverTheOriginalProtocol() throws Exception {
        HttpResponse<String> ok = post("/diagnoser/fakediagnoser", abnormalJson());

        assertThat(ok.statusCode()).isEqualTo(200);
        Abnormal answered = ApiSerialization.abnormal(ok.body());
        assertThat(answered.getStatus().context).isEqualTo(Map.of("kept", true, "diagnosis", "from-spec"));
        assertThat(answered.getStatus().phase).isEqualTo("Diagnosing");
        assertThat(answered.getMetadata().getUid()).isEqualTo("u1");
    }

    @Test
    void shouldAnswerTheOriginalErrorCodes() throws Exception {
        assertThat(get("/diagnoser/fakediagnoser").statusCode()).isEqualTo(405);
        assertThat(post("/diagnoser/fakediagnoser", "{not json").statusCode()).isEqualTo(400);
        assertThat(post("/diagnoser/fakediagnoser", "{\"kind\": \"Pod\", \"spec\": {}}").statusCode()).isEqualTo(406);
        assertThat(post("/diagnoser/missing", abnormalJson()).statusCode()).isEqualTo(404);
        HttpResponse<String> failed = post("/informationcollector/brokencollector", abnormalJson());
        assertThat(failed.statusCode()).isEqualTo(500);
        assertThat(failed.body()).isEqualTo("Broken: it broke");
    }

    @Test
    void shouldApplyThePolicyToCallersAndTrustTheAgentsOwnToken() throws Exception {
        policy = () -> Policy.parse("grants: [{origins: [CustomResource], processors: ['*']}]", "p.yaml");

        HttpResponse<String> stranger = post("/diagnoser/fakediagnoser", abnormalJson());
        HttpResponse<String> forged = post("/diagnoser/fakediagnoser", abnormalJson(),
                RemoteProcessor.TOKEN_HEADER, "guess", RemoteProcessor.ORIGIN_HEADER, "CustomResource");
        HttpResponse<String> agent = post("/diagnoser/fakediagnoser", abnormalJson(),
                RemoteProcessor.TOKEN_HEADER, "secret", RemoteProcessor.ORIGIN_HEADER, "CustomResource");

        assertThat(stranger.statusCode()).isEqualTo(500);
        assertThat(stranger.body()).startsWith("Forbidden: no grant of policy p.yaml allows processor kube-diagnoser/fake-diagnoser")
                .endsWith("origin Unknown");
        assertThat(forged.statusCode()).isEqualTo(500);
        assertThat(agent.statusCode()).isEqualTo(200);
    }

    @Test
    void shouldRefuseTheSignalRecovererToAnotherHostWithoutAPolicyFile() throws Exception {
        InetAddress external = HostAddresses.nonLoopback().orElse(null);
        assumeTrue(external != null, "this machine has a non-loopback address");
        Process target = new ProcessBuilder("sleep", "600").start();
        // the agent as deployed in a pod: every interface, the real built-ins, no policy file
        BuiltIns real = new BuiltIns("kube-diagnoser", WorkerCatalog.builtIns(), workers, Registrations.NONE,
                () -> Policy.defaults(List.of("kube-diagnoser/process-collector")));
        try (AgentHttpServer open = AgentHttpServer.start("0.0.0.0", 0, real, Registrations.NONE,
                new NodeServices(HostPaths.of(Path.of("/")), ProcessHandle.current().pid(), PodSource.NONE), "node-a",
                new Health(List.of(), List.of()), "secret")) {
            Abnormal abnormal = ApiSerialization.abnormal(abnormalJson());
            abnormal.getSpec().context = Map.of("signalRecovery", List.of(Map.of("pid", target.pid(), "signal", 15)));
            HttpResponse<String> answer = client.send(HttpRequest.newBuilder(URI.create("http://"
                            + external.getHostAddress() + ":" + open.port() + "/recoverer/signalrecoverer"))
                    .POST(HttpRequest.BodyPublishers.ofString(ApiSerialization.json(abnormal))).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertThat(answer.statusCode()).isEqualTo(500);
            assertThat(answer.body()).isEqualTo("Forbidden: no grant of the default policy (no kdiag.policy-file) allows processor "
                    + "kube-diagnoser/signal-recoverer for namespace default and origin Unknown");
            assertThat(target.waitFor(1, TimeUnit.SECONDS)).as("the target exited").isFalse();
        } finally {
            target.destroyForcibly();
        }
    }


    @Test
    void shouldServeNoFilesOfTheNode() throws Exception {
        // profiles are evidence, served by the status writer: the agent's port has no file to give
        assertThat(get("/artifacts/0b6f0f4e-1c1e-4d3c-9a51-2b9f4e4f3b6a/flamegraph.html").statusCode()).isEqualTo(404);
    }
}
