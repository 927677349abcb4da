package io.kdiag.systemtests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import io.kdiag.api.ApiSerialization;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.schemas.avro.ProfilerResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The agent container's profilers against real programs: a Go service built with Debian's golang-go, and a JVM in
 * another container. Profilers are privileged work: the test grants them to its own namespace through the agent's
 * policy file (the rendered ConfigMap's, plus one grant), which the agent reloads without a restart.
 */
@ExtendWith(StackExtension.class)
class ProfilerContainerIT {
    private static final String NAMESPACE = "system-test-profiling";
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static Stack stack;

    @BeforeAll
    static void grantProfilers(Stack s) throws IOException {
        stack = s;
        Path policy = stack.work.resolve("volumes").resolve(Stack.AGENT).resolve("policy").resolve("policy.yaml");
        Files.writeString(policy, Files.readString(policy) + """
                - origins: [IngestTopic]
                  namespaces: [%s]
                  processors: [kube-diagnoser/process-collector]
                  profilers: ["*"]
                """.formatted(NAMESPACE));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Stack.tail(stack.container(Stack.AGENT)).contains("policy reloaded")) {
            assertThat(System.nanoTime()).as("the agent reloads its policy").isLessThan(deadline);
            Stack.sleep(500);
        }
    }

    private static ProfilerResult profile(String name, String profiler) {
        AbnormalStatus status = PipelineContainerIT.runToEnd(stack, ApiSerialization.abnormal("""
                apiVersion: diagnosis.netease.com/v1
                kind: Abnormal
                metadata: {name: %s, namespace: %s}
                spec:
                  source: Custom
                  nodeName: %s
                  assignedInformationCollectors: [{name: process-collector, namespace: kube-diagnoser}]
                  profilers:
                  - name: %s
                    type: InformationCollector
                    timeoutSeconds: 5
                %s
                  skipDiagnosis: true
                  skipRecovery: true
                """.formatted(name, NAMESPACE, Stack.NODE, name, profiler.indent(4).stripTrailing())));
        assertThat(status.getPhase()).as(String.valueOf(status)).isEqualTo(Phase.Succeeded);
        assertThat(status.getProfilers()).hasSize(1);
        return status.getProfilers().get(0);
    }

    /** A profile page kept as evidence: its endpoint is a path of the status writer's query API, fetched through its published port. */
    private static String fetch(String endpoint) throws Exception {
        assertThat(endpoint).as("a path of the query API, not an address of the agent").startsWith("/api/v1/evidence/");
        URI local = URI.create("http://127.0.0.1:" + stack.port(Stack.STATUS_WRITER, "http") + endpoint);
        HttpResponse<String> page = HTTP.send(HttpRequest.newBuilder(local).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-type")).hasValueSatisfying(type -> assertThat(type).startsWith("text/html"));
        return page.body();
    }

    @Test
    void shouldDrawTheOwnFunctionsOfARealGoProgramFromItsPprofEndpoint() throws Exception {
        Path binary = stack.work.resolve("pprof-demo");
        Podman.Result build = Podman.run(List.of("go", "build", "-o", binary.toString(), "pprof-demo.go"), Duration.ofMinutes(5),
                Images.REPO.resolve("system-tests/src/test/go"));
        assertThat(build.exitCode()).as(build.err()).isZero();
        String go = stack.prefix + "-pprof-demo";
        // any base will do: the program is static
        Podman.podman("run", "-d", "--name", go, "--label", Podman.RUN_LABEL, "--network", stack.network, "--network-alias",
                "pprof-demo", "-v", binary + ":/pprof-demo:ro", "docker.io/library/debian:bookworm-slim", "/pprof-demo");
        try {
            ProfilerResult result = profile("go-cpu", "go: {source: 'http://pprof-demo:6060/debug/pprof/profile'}");
            assertThat(result.getError()).isNull();
            String page = fetch(result.getEndpoint());
            assertThat(page).contains("main.churnHashes", "main.burnCPU", "crypto/sha256");
        } finally {
            Podman.remove(go);
        }
    }

    @Test
    void shouldProfileARootJvmInAnotherContainerFromTheAgentContainer() throws Exception {
        // a JVM of another container, as root like the agent: the attach socket is within the agent's reach
        String jvm = stack.prefix + "-busy-jvm";
        Podman.podman("run", "-d", "--name", jvm, "--label", Podman.RUN_LABEL, "--user", "0", "--entrypoint", "java",
                "-v", Images.REPO.resolve("system-tests/src/test/jvm/Busy.java") + ":/Busy.java:ro", Images.project(), "/Busy.java");
        try {
            String pid = Podman.inspect(jvm, "{{.State.Pid}}");
            // the source launcher compiles first: profile once the class runs
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!Podman.podman("exec", jvm, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '").contains("Busy.java")
                    || Podman.tryPodman("exec", jvm, "sh", "-c", "jcmd 1 Thread.print | grep -q Busy.spinHashes").exitCode() != 0) {
                assertThat(System.nanoTime()).as("Busy runs").isLessThan(deadline);
                Stack.sleep(500);
            }
            ProfilerResult result = profile("root-jvm", "java: {type: CPU, pid: " + pid + "}");
            assertThat(result.getError()).isNull();
            assertThat(fetch(result.getEndpoint())).contains("Java CPU profile of pid " + pid, "Busy.spinHashes");
        } finally {
            Podman.remove(jvm);
        }
    }

    @Test
    void shouldRefuseTheJvmOfAnotherUserInAnotherContainerWithAClearError() {
        // the bridge's JVM runs as uid 10001; the agent is root without CAP_DAC_OVERRIDE (the DaemonSet's capabilities)
        String pid = Podman.inspect(stack.container(Stack.BRIDGE), "{{.State.Pid}}");
        ProfilerResult result = profile("bridge-jvm", "java: {type: CPU, pid: " + pid + "}");
        assertThat(result.getEndpoint()).isNull();
        assertThat(result.getError()).contains("cannot attach to pid " + pid, "Permission denied",
                "The JVM runs as uid 10001 and the agent as uid 0 without CAP_DAC_OVERRIDE");
    }
}
