package io.kdiag.systemtests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.core.type.TypeReference;

/**
 * The commands of docs/install.md "Run it on one machine" and docs/operations.md "Prometheus without the Operator",
 * run as written (podman as the ENGINE, the locally built Kafka image as the KAFKA_IMAGE, this run's API socket as the
 * DOCKER_SOCKET), then Debian's Prometheus scraping the containers and the Grafana dashboard's queries against it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LocalRunContainerIT {
    private static final KubernetesSerialization JSON = new KubernetesSerialization();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final Map<String, Integer> METRICS = new LinkedHashMap<>();
    private static Path dir;
    private static Map<String, String> env;
    private static Process prometheus;

    static {
        METRICS.put("kdiag-node-agent", 10357);
        METRICS.put("kdiag-source-bridge", 10358);
        METRICS.put("kdiag-status-writer", 10359);
    }

    @BeforeAll
    static void setUp() throws IOException {
        dir = Files.createDirectories(Path.of(System.getProperty("kdiag.work-dir", "target/system-test"), Podman.RUN, "local-run"));
        // ENGINE: podman, with this run's label on what it creates so that .ci/with-podman removes it in any case
        Path engine = dir.resolve("podman");
        Files.writeString(engine, """
                #!/bin/sh
                case "$1 $2" in
                  "run "*) shift; exec podman run --label "%1$s" "$@" ;;
                  "network create") shift 2; exec podman network create --label "%1$s" "$@" ;;
                esac
                exec podman "$@"
                """.formatted(Podman.RUN_LABEL));
        Files.setPosixFilePermissions(engine, PosixFilePermissions.fromString("rwxr-xr-x"));
        env = Map.of("ENGINE", engine.toString(), "KAFKA_IMAGE", Images.kafka(),
                "DOCKER_SOCKET", System.getenv("DOCKER_HOST").substring("unix://".length()), "KDIAG_HOME", dir.resolve("kdiag-home").toString());
        // what an interrupted earlier run left (its containers, the kdiag network), removed as install.md removes it;
        // where there is nothing to remove the commands fail, which is fine here
        bash(Docs.blocks("docs/install.md", "### Run it on one machine", "bash").get(2), Images.REPO);
        Images.project();
    }

    @AfterAll
    static void tearDown() {
        if (prometheus != null) {
            prometheus.destroy();
        }
        if (env != null) {
            // the removal commands of install.md, as written
            bash(Docs.blocks("docs/install.md", "### Run it on one machine", "bash").get(2), Images.REPO);
        }
    }

    @Test
    @Order(1)
    void shouldStartTheSystemAsContainersWithTheCommandsOfInstallMd() {
        Podman.Result started = bash(Docs.blocks("docs/install.md", "### Run it on one machine", "bash").get(0), Images.REPO);
        assertThat(started.exitCode()).as(started.err()).isZero();
        for (Map.Entry<String, Integer> m : METRICS.entrySet()) {
            awaitOk("http://127.0.0.1:" + m.getValue() + "/metrics", m.getKey());
        }
        awaitOk("http://127.0.0.1:8091/readyz", "kdiag-status-writer");
        awaitOk("http://127.0.0.1:8090/readyz", "kdiag-node-agent");
    }

    @Test
    @Order(2)
    void shouldRunTheExampleToSucceededWithTheSubmitCommandOfInstallMd() {
        Podman.Result submitted = bash(Docs.blocks("docs/install.md", "### Run it on one machine", "bash").get(1), Images.REPO);
        assertThat(submitted.exitCode()).as(submitted.err() + submitted.out()).isZero();
        assertThat(submitted.out()).contains("phase: \"Succeeded\"", "processInformation", "Forbidden");
    }

    @Test
    @Order(3)
    void shouldPassPromtoolCheckMetricsForEveryKdiagSeriesOfEachComponent() {
        for (Map.Entry<String, Integer> m : METRICS.entrySet()) {
            String exposition = get("http://127.0.0.1:" + m.getValue() + "/metrics");
            StringBuilder kdiag = new StringBuilder();
            exposition.lines().filter(l -> l.matches("(# (HELP|TYPE) )?kdiag_.*")).forEach(l -> kdiag.append(l).append('\n'));
            assertThat(kdiag).as(m.getKey()).isNotEmpty();
            Podman.Result check = bash("promtool check metrics < " + write("metrics-" + m.getKey() + ".txt", kdiag.toString()), dir);
            assertThat(check.exitCode()).as(m.getKey() + ": " + check.out() + check.err()).isZero();
            assertThat(check.out() + check.err()).as(m.getKey()).doesNotContain("kdiag_");
        }
    }

    @Test
    @Order(4)
    void shouldScrapeEveryComponentWithTheScrapeConfigOfOperationsMd() throws IOException {
        write("prometheus.yml", Docs.blocks("docs/operations.md", "### Prometheus without the Operator", "yaml").get(0));
        List<String> commands = Docs.blocks("docs/operations.md", "### Prometheus without the Operator", "bash").get(0).lines().toList();
        Podman.Result check = bash(commands.get(0), dir);
        assertThat(check.exitCode()).as(check.out() + check.err()).isZero();
        // the server runs on; its output goes to a file
        prometheus = new ProcessBuilder("bash", "-c", "exec " + commands.get(1)).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        List<Object> up = List.of();
        while (System.nanoTime() < deadline) {
            try {
                up = result("up == 1");
            } catch (AssertionError e) {
                // not listening yet
                assertThat(prometheus.isAlive()).as("prometheus runs; its log:\n" + Files.readString(dir.resolve("prometheus.log"))).isTrue();
            }
            if (up.size() == METRICS.size()) {
                break;
            }
            Stack.sleep(1000);
        }
        assertThat(up).as("targets up; prometheus.log:\n" + Files.readString(dir.resolve("prometheus.log"))).hasSize(METRICS.size());
    }

    @Test
    @Order(5)
    void shouldAnswerEveryQueryOfTheGrafanaDashboardWithData() throws IOException {
        Map<String, Object> dashboard = JSON.unmarshal(Files.readString(Images.REPO.resolve("dashboards/kube-diagnoser.json")),
                new TypeReference<Map<String, Object>>() {
                });
        List<String> queries = new ArrayList<>();
        collect(dashboard.get("panels"), queries);
        assertThat(queries).hasSizeGreaterThan(10);
        // rate() needs two scrapes in its window: wait for them, then every query must have data
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        List<String> empty = queries;
        while (System.nanoTime() < deadline && !empty.isEmpty()) {
            empty = queries.stream().filter(q -> result(q.replace("$namespace", "kube-diagnoser").replace("$__rate_interval", "1m")).isEmpty())
                    .toList();
            if (!empty.isEmpty()) {
                Stack.sleep(3000);
            }
        }
        assertThat(empty).as("dashboard queries without data").isEmpty();
        // the dashboard's namespace variable lists the namespace
        assertThat(String.valueOf(result("count by (namespace) (kdiag_agent_abnormals_in_flight)"))).contains("kube-diagnoser");
    }

    @SuppressWarnings("unchecked")
    private static void collect(Object panels, List<String> queries) {
        if (!(panels instanceof List<?> list)) {
            return;
        }
        for (Object p : list) {
            Map<String, Object> panel = (Map<String, Object>) p;
            if (panel.get("targets") instanceof List<?> targets) {
                targets.forEach(t -> queries.add(String.valueOf(((Map<String, Object>) t).get("expr"))));
            }
            collect(panel.get("panels"), queries);
        }
    }

    /** The result vector of an instant query to the Prometheus the test started. */
    @SuppressWarnings("unchecked")
    private static List<Object> result(String query) {
        String body = get("http://127.0.0.1:9090/api/v1/query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8));
        Map<String, Object> answer = JSON.unmarshal(body, new TypeReference<Map<String, Object>>() {
        });
        if (!"success".equals(answer.get("status"))) {
            throw new AssertionError(query + ": " + body);
        }
        return (List<Object>) ((Map<String, Object>) answer.get("data")).get("result");
    }

    private static String get(String url) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new AssertionError("GET " + url + ": " + r.statusCode() + " " + r.body());
            }
            return r.body();
        } catch (IOException e) {
            throw new AssertionError("GET " + url + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void awaitOk(String url, String container) {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (true) {
            try {
                get(url);
                return;
            } catch (AssertionError e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(container + " did not answer " + url + ":\n" + Stack.tail(container), e);
                }
                Stack.sleep(1000);
            }
        }
    }

    private static String write(String name, String content) {
        try {
            return Files.writeString(dir.resolve(name), content).toString();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A docs block run by bash as written, with the test's ENGINE, KAFKA_IMAGE, DOCKER_SOCKET and KDIAG_HOME. */
    private static Podman.Result bash(String script, Path cwd) {
        List<String> command = new ArrayList<>(List.of("env"));
        env.forEach((k, v) -> command.add(k + "=" + v));
        command.addAll(List.of("bash", "-euo", "pipefail", "-c", script));
        return Podman.run(command, Duration.ofMinutes(5), cwd);
    }
}
