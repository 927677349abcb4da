package io.kdiag.profilers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.schemas.Evidence;
import io.kdiag.stageworkers.spi.EvidenceStore;
import io.kdiag.stageworkers.spi.ProfilerEngine.ProfilerException;
import io.kdiag.stageworkers.spi.WorkContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GoProfilerTest {
    private final MemoryEvidence evidence = new MemoryEvidence();
    private static final byte[] PROFILE = cpuProfile();

    private final GoProfiler engine = new GoProfiler();
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private HttpServer server;

    private static byte[] cpuProfile() {
        PprofBuilder builder = new PprofBuilder().sampleType("samples", "count").sampleType("cpu", "nanoseconds");
        long main = builder.location("main.main");
        long serve = builder.location("net/http.(*conn).serve");
        long hash = builder.location("main.expensiveHash");
        return builder.sample(new long[] {hash, serve, main}, 9, 90_000_000)
                .sample(new long[] {serve, main}, 1, 10_000_000)
                .gzipped();
    }

    private static ProfilerSpec spec(String source) {
        ProfilerSpec spec = new ProfilerSpec();
        spec.name = "api-cpu";
        spec.type = "Diagnoser";
        spec.go = new ProfilerSpec.GoProfilerSpec();
        spec.go.source = source;
        return spec;
    }

    @BeforeEach
    void startPprofServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/debug/pprof/profile", exchange -> {
            requests.add(exchange.getRequestURI().toString());
            respond(exchange, 200, PROFILE);
        });
        server.createContext("/debug/pprof/goroutine", exchange -> respond(exchange, 200,
                "goroutine profile: total 1\n1 @ 0x43a8f6\n".getBytes(StandardCharsets.UTF_8)));
        server.createContext("/debug/pprof/busy", exchange -> respond(exchange, 500,
                "Could not enable CPU profiling: cpu profiling already in use\n".getBytes(StandardCharsets.UTF_8)));
        server.start();
    }

    private static void respond(HttpExchange exchange, int status, byte[] body) throws IOException {
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    private String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    @Test
    void shouldDrawTheProfileOfAPprofEndpointSamplingForTheTimeout() throws Exception {
        WorkContext ctx = Contexts.onThisHost();

        Evidence.Reference page = engine.profile(spec(url("/debug/pprof/profile")), ctx, Duration.ofSeconds(7), evidence);

        assertThat(requests).containsExactly("/debug/pprof/profile?seconds=7");
        assertThat(page.contentType()).isEqualTo("text/html; charset=utf-8");
        assertThat(evidence.text(page)).contains("api-cpu: Go cpu profile of " + url("/debug/pprof/profile"))
                .contains("Go cpu (pprof) &middot; total 100,000,000 nanoseconds")
                .contains("data-n=\"main.expensiveHash\" data-s=\"0\" data-v=\"90000000\"")
                .contains("data-n=\"net/http.(*conn).serve\"");
        Evidence.Reference raw = evidence.linked(page);
        assertThat(raw.contentType()).isEqualTo("application/octet-stream");
        assertThat(evidence.text(page)).contains("profile.pb.gz</a>");
        assertThat(evidence.bytes(raw)).isEqualTo(PROFILE);
    }

    @Test
    void shouldKeepTheSecondsTheSourceGives() throws Exception {
        engine.profile(spec(url("/debug/pprof/profile?seconds=2")), Contexts.onThisHost(), Duration.ofSeconds(30), evidence);

        assertThat(requests).containsExactly("/debug/pprof/profile?seconds=2");
        assertThat(GoProfiler.withSeconds("http://h:6060/debug/pprof/heap", 30)).isEqualTo("http://h:6060/debug/pprof/heap");
        assertThat(GoProfiler.withSeconds("http://h:6060/debug/pprof/profile?debug=0", 30))
                .isEqualTo("http://h:6060/debug/pprof/profile?debug=0&seconds=30");
    }

    @Test
    void shouldReadAProfileFileOfTheNode(@TempDir Path hostRoot) throws Exception {
        Files.createDirectories(hostRoot.resolve("var/lib/app"));
        Files.write(hostRoot.resolve("var/lib/app/cpu.pprof"), PROFILE);
        WorkContext ctx = Contexts.on(hostRoot);

        Evidence.Reference page = engine.profile(spec("/var/lib/app/cpu.pprof"), ctx, Duration.ofSeconds(30), evidence);

        assertThat(evidence.text(page)).contains("data-n=\"main.expensiveHash\"");
    }

    @Test
    void shouldSayWhenTheProfileCannotBeKept() {
        EvidenceStore full = (content, contentType) -> {
            throw new IOException("more than kdiag.evidence.max-abnormal-bytes=100 for this abnormal");
        };

        assertThatThrownBy(() -> engine.profile(spec(url("/debug/pprof/profile")), Contexts.onThisHost(), Duration.ofSeconds(1), full))
                .isInstanceOf(ProfilerException.class)
                .hasMessage("cannot keep the profile as evidence: more than kdiag.evidence.max-abnormal-bytes=100 for this abnormal");
    }

    @Test
    void shouldSayWhyTheProfileCannotBeRead(@TempDir Path hostRoot) {
        WorkContext ctx = Contexts.on(hostRoot);
        Duration timeout = Duration.ofSeconds(1);

        assertThatThrownBy(() -> engine.profile(spec(url("/debug/pprof/busy")), ctx, timeout, evidence))
                .isInstanceOf(ProfilerException.class)
                .hasMessageContaining("returned HTTP 500: Could not enable CPU profiling: cpu profiling already in use");
        assertThatThrownBy(() -> engine.profile(spec(url("/debug/pprof/goroutine?debug=1")), ctx, timeout, evidence))
                .isInstanceOf(ProfilerException.class)
                .hasMessageContaining("is not a pprof profile in the binary format");
        assertThatThrownBy(() -> engine.profile(spec("/var/lib/app/missing.pprof"), ctx, timeout, evidence))
                .isInstanceOf(ProfilerException.class)
                .hasMessage("no profile file /var/lib/app/missing.pprof on this node");
        assertThatThrownBy(() -> engine.profile(spec("http://bad host/debug/pprof/profile"), ctx, timeout, evidence))
                .isInstanceOf(ProfilerException.class)
                .hasMessageStartingWith("go.source is not a valid URL");
        assertThatThrownBy(() -> engine.profile(spec("localhost:6060/debug/pprof/profile"), ctx, timeout, evidence))
                .isInstanceOf(ProfilerException.class)
                .hasMessageStartingWith("go.source must be a pprof URL");
    }
}
