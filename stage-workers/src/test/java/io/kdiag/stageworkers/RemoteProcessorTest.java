package io.kdiag.stageworkers;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.AbnormalStatus;
import io.kdiag.api.v1.ProcessorSpec;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.stageworkers.spi.WorkResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A JDK HTTP server in the test plays the processor, speaking the original protocol. */
class RemoteProcessorTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final RemoteProcessor remote = new RemoteProcessor(URI.create("http://127.0.0.1:1/"), "token", registry);
    private final CountDownLatch release = new CountDownLatch(1);
    private HttpServer server;
    private volatile Function<Abnormal, Reply> behaviour;
    private volatile String receivedMethod;

    private record Reply(int status, byte[] body) {
        static Reply json(Abnormal abnormal) {
            return new Reply(200, ApiSerialization.json(abnormal).getBytes(StandardCharsets.UTF_8));
        }
    }

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    @AfterEach
    void stop() {
        release.countDown();
        server.stop(0);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            receivedMethod = exchange.getRequestMethod();
            Abnormal abnormal = ApiSerialization.abnormal(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            Reply reply = behaviour.apply(abnormal);
            exchange.sendResponseHeaders(reply.status(), reply.body().length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(reply.body());
            }
        }
    }

    private URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/diagnoser/mine");
    }

    private static Abnormal abnormal() {
        Abnormal abnormal = new Abnormal();
        abnormal.setMetadata(new ObjectMetaBuilder().withNamespace("default").withName("a").withUid("uid-1").build());
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = "node-a";
        spec.context = Map.of("input", 1);
        abnormal.setSpec(spec);
        AbnormalStatus status = new AbnormalStatus();
        status.phase = "Diagnosing";
        status.startTime = "2026-01-01T00:00:00Z";
        status.context = new LinkedHashMap<>(Map.of("processInformation", List.of(1, 2), "kept", "same"));
        abnormal.setStatus(status);
        return abnormal;
    }

    private WorkResult call(Function<Abnormal, Reply> processor) throws InterruptedException {
        behaviour = processor;
        return remote.call(url(), Duration.ofSeconds(5), false, abnormal(), Origin.CustomResource);
    }

    @Test
    void shouldPostTheAbnormalAndTurnTheNewContextIntoUpdates() throws Exception {
        WorkResult result = call(a -> {
            a.getStatus().context.remove("processInformation");
            a.getStatus().context.put("diagnosis", Map.of("found", a.getSpec().context.get("input")));
            return Reply.json(a);
        });

        assertThat(receivedMethod).isEqualTo("POST");
        assertThat(result.succeeded()).as(result.toString()).isTrue();
        assertThat(result.contextUpdates()).isEqualTo(Map.of("diagnosis", Map.of("found", 1)));
        assertThat(result.removedKeys()).containsExactly("processInformation");
    }

    @Test
    void shouldReportAServerErrorWithItsStatusAndAnExcerpt() throws Exception {
        WorkResult result = call(a -> new Reply(500, ("cannot diagnose " + "x".repeat(5000)).getBytes(StandardCharsets.UTF_8)));

        assertThat(result.reason()).isEqualTo("RemoteError");
        assertThat(result.message()).contains("answered 500: cannot diagnose").endsWith("[truncated]");
        assertThat(result.message().length()).isLessThan(RemoteProcessor.EXCERPT_BYTES + 200);
    }

    @Test
    void shouldRefuseAnOversizedAnswer() throws Exception {
        WorkResult result = call(a -> {
            a.getStatus().context.put("huge", "x".repeat(RemoteProcessor.MAX_RESPONSE_BYTES));
            return Reply.json(a);
        });

        assertThat(result.reason()).isEqualTo("ResponseTooLarge");
    }

    @Test
    void shouldRefuseAnAnswerThatChangedMoreThanTheContext() throws Exception {
        WorkResult spec = call(a -> {
            a.getSpec().nodeName = "elsewhere";
            return Reply.json(a);
        });
        WorkResult phase = call(a -> {
            a.getStatus().phase = "Succeeded";
            return Reply.json(a);
        });
        WorkResult diagnoser = call(a -> {
            a.getStatus().diagnoser = new io.kdiag.api.v1.NamespacedName("x", "y");
            return Reply.json(a);
        });

        assertThat(spec.reason()).isEqualTo("InvalidResponse");
        assertThat(spec.message()).contains("changed spec; only status.context may change");
        assertThat(phase.message()).contains("changed status.phase");
        assertThat(diagnoser.message()).contains("changed status.diagnoser");
    }

    @Test
    void shouldTimeOutASlowProcessor() throws Exception {
        behaviour = a -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Reply.json(a);
        };

        WorkResult result = remote.call(url(), Duration.ofMillis(300), false, abnormal(), Origin.CustomResource);

        assertThat(result.reason()).isEqualTo("Timeout");
        assertThat(result.message()).contains("did not answer within");
    }

    @Test
    void shouldRefuseMalformedJsonButTakeAnAnswerWithoutStatusAsNoChange() throws Exception {
        WorkResult malformed = call(a -> new Reply(200, "{\"spec\": ".getBytes(StandardCharsets.UTF_8)));
        WorkResult noStatus = call(a -> {
            a.setStatus(null);
            return Reply.json(a);
        });

        assertThat(malformed.reason()).isEqualTo("InvalidResponse");
        assertThat(malformed.message()).contains("did not answer an Abnormal: the body is not JSON");
        // as KubeDiag's Go agent: what the answer leaves out stays as it was sent
        assertThat(noStatus.succeeded()).as(noStatus.toString()).isTrue();
        assertThat(noStatus.contextUpdates()).isEmpty();
        assertThat(noStatus.removedKeys()).isEmpty();
    }

    @Test
    void shouldCallAnHttpsProcessorWithASelfSignedCertificateOnlyWhenItsRegistrationOptsOut(@TempDir Path dir) throws Exception {
        HttpsServer https = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        https.setHttpsConfigurator(new HttpsConfigurator(selfSigned(dir)));
        https.createContext("/", this::handle);
        https.start();
        behaviour = Reply::json;
        try {
            URI url = URI.create("https://127.0.0.1:" + https.getAddress().getPort() + "/diagnose");

            WorkResult verified = remote.call(url, Duration.ofSeconds(10), false, abnormal(), Origin.CustomResource);
            WorkResult optedOut = remote.call(url, Duration.ofSeconds(10), true, abnormal(), Origin.CustomResource);

            assertThat(verified.reason()).isEqualTo("RemoteError");
            assertThat(optedOut.succeeded()).as(optedOut.toString()).isTrue();
            assertThat(registry.counter(RemoteProcessor.INSECURE_TLS_CALLS, "processor", url.toString()).count()).isEqualTo(1);
        } finally {
            https.stop(0);
        }
    }

    /** A TLS context serving a certificate nobody signed, for a name that is not the server's, made by the JDK's keytool. */
    private static SSLContext selfSigned(Path dir) throws Exception {
        Path store = dir.resolve("processor.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair",
                "-alias", "processor", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=jvm-oom-diagnoser.sre-tools",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", "changeit")
                .redirectErrorStream(true).start();
        String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(keytool.waitFor()).as(output).isZero();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keys.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory managers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        managers.init(keys, "changeit".toCharArray());
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(managers.getKeyManagers(), null, null);
        return context;
    }

    @Test
    void shouldLowerCaseTheSchemeAsKubeDiagDid() {
        ProcessorSpec spec = new ProcessorSpec();
        spec.externalIP = "10.96.12.40";
        spec.externalPort = 8443;
        spec.path = "/diagnose";
        spec.scheme = "HTTPS";

        assertThat(remote.url(spec)).isEqualTo(URI.create("https://10.96.12.40:8443/diagnose"));
    }

    @Test
    void shouldReportAProcessorThatCannotBeReached() throws Exception {
        server.stop(0);

        WorkResult result = remote.call(url(), Duration.ofSeconds(5), false, abnormal(), Origin.CustomResource);

        assertThat(result.reason()).isEqualTo("RemoteError");
    }
}
