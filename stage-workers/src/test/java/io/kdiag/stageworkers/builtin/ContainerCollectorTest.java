package io.kdiag.stageworkers.builtin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.kdiag.api.ApiSerialization;
import io.kdiag.stageworkers.spi.WorkResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContainerCollectorTest {
    static final String TASKS = "run/containerd/io.containerd.runtime.v2.task";
    private static final String DOCKER_LIST = """
            [{"Id":"8dfafdbc3a40","Names":["/k8s_nginx_web-0_default_uid-web_0"],"Image":"nginx:1.25","State":"running",
              "Status":"Up 2 hours","Labels":{"io.kubernetes.container.name":"nginx","io.kubernetes.docker.type":"container",
              "io.kubernetes.pod.name":"web-0","io.kubernetes.pod.namespace":"default","io.kubernetes.pod.uid":"uid-web",
              "io.kubernetes.sandbox.id":"a1b2c3"}},
             {"Id":"a1b2c3","Names":["/k8s_POD_web-0_default_uid-web_0"],"Image":"k8s.gcr.io/pause:3.2","State":"running",
              "Labels":{"io.kubernetes.container.name":"POD","io.kubernetes.docker.type":"podsandbox",
              "io.kubernetes.pod.name":"web-0","io.kubernetes.pod.namespace":"default","io.kubernetes.pod.uid":"uid-web"}},
             {"Id":"ffee","Names":["/registry"],"Image":"registry:2","State":"running","Labels":{}}]
            """;

    @TempDir
    Path root;

    private WorkResult collect() throws Exception {
        return new ContainerCollector(Duration.ofMillis(500)).run(Contexts.at(root, null, null));
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> containers(WorkResult result) {
        assertThat(result.succeeded()).as(result.toString()).isTrue();
        return (List<Map<String, Object>>) result.contextUpdates().get("containerInformation");
    }

    /** Writes a runtime-v2 task bundle; {@code config} is the config.json text. */
    static Path task(Path root, String namespace, String id, String config, Long pid) throws IOException {
        Path bundle = Files.createDirectories(root.resolve(TASKS).resolve(namespace).resolve(id));
        if (config != null) {
            Files.writeString(bundle.resolve("config.json"), config);
        }
        if (pid != null) {
            Files.writeString(bundle.resolve("init.pid"), pid.toString());
            Files.writeString(bundle.resolve("address"), "unix:///run/containerd/s/" + id);
        }
        return bundle;
    }

    static String config(Map<String, String> annotations) {
        return ApiSerialization.json(Map.of("ociVersion", "1.0.2", "process", Map.of("args", List.of("/pause")),
                "annotations", annotations));
    }

    @Test
    void shouldReadContainerdTasksWithTheirPodFromTheCriAnnotations() throws Exception {
        task(root, "k8s.io", "sandbox1", config(Map.of(
                "io.kubernetes.cri.container-type", "sandbox", "io.kubernetes.cri.sandbox-id", "sandbox1",
                "io.kubernetes.cri.sandbox-name", "web-0", "io.kubernetes.cri.sandbox-namespace", "default",
                "io.kubernetes.cri.sandbox-uid", "uid-web")), 100L);
        Files.writeString(task(root, "k8s.io", "ctr1", config(Map.of(
                "io.kubernetes.cri.container-type", "container", "io.kubernetes.cri.container-name", "nginx",
                "io.kubernetes.cri.sandbox-id", "sandbox1", "io.kubernetes.cri.sandbox-name", "web-0",
                "io.kubernetes.cri.sandbox-namespace", "default", "io.kubernetes.cri.sandbox-uid", "uid-web",
                "io.kubernetes.cri.image-name", "docker.io/library/nginx:1.25")), 200L).resolve("shim.pid"), "99\n");
        Files.createDirectories(root.resolve("proc/100"));

        List<Map<String, Object>> containers = containers(collect());

        assertThat(containers).extracting(c -> c.get("id")).containsExactly("ctr1", "sandbox1");
        assertThat(containers.get(0)).containsExactly(
                entry("id", "ctr1"), entry("runtime", "containerd"), entry("namespace", "k8s.io"),
                entry("name", "nginx"), entry("podName", "web-0"), entry("podNamespace", "default"),
                entry("podUid", "uid-web"), entry("sandboxId", "sandbox1"), entry("containerType", "container"),
                entry("image", "docker.io/library/nginx:1.25"), entry("pid", 200L), entry("state", "stopped"),
                entry("shimPid", 99L), entry("address", "unix:///run/containerd/s/ctr1"));
        assertThat(containers.get(1)).containsEntry("containerType", "sandbox").containsEntry("sandboxId", "sandbox1")
                .containsEntry("pid", 100L).containsEntry("state", "running").containsEntry("name", "sandbox1");
    }

    @Test
    void shouldKeepATaskWhoseBundleIsUnreadableWithAnError() throws Exception {
        task(root, "k8s.io", "broken", "{not json", null);
        task(root, "k8s.io", "creating", null, null);

        List<Map<String, Object>> containers = containers(collect());

        assertThat(containers).extracting(c -> c.get("id")).containsExactly("broken", "creating");
        assertThat(containers).allSatisfy(c -> assertThat(c).containsEntry("state", "unknown").containsEntry("pid", null)
                .containsKey("error"));
        assertThat((String) containers.get(1).get("error")).contains("config.json");
    }

    @Test
    void shouldListDockerContainersOverTheUnixSocketWithAChunkedAnswerAndInspectEachForItsPid() throws Exception {
        try (FakeDocker docker = new FakeDocker(root.resolve("var/run/docker.sock"), path -> switch (path) {
            case "/containers/json" -> FakeDocker.chunked(DOCKER_LIST, 100);
            case "/containers/8dfafdbc3a40/json" -> FakeDocker.withLength(200, "OK", "{\"Id\":\"8dfafdbc3a40\",\"State\":{\"Pid\":4242}}");
            // a container that stopped between the list and the inspection has no process
            case "/containers/a1b2c3/json" -> FakeDocker.withLength(200, "OK", "{\"State\":{\"Pid\":0}}");
            default -> FakeDocker.withLength(404, "Not Found", "{\"message\":\"no such container\"}");
        })) {
            List<Map<String, Object>> containers = containers(collect());

            assertThat(docker.requests).first().satisfies(r -> assertThat(r)
                    .startsWith("GET /containers/json HTTP/1.1\r\n").contains("Connection: close\r\n"));
            assertThat(docker.requests).extracting(r -> r.substring(0, r.indexOf(" HTTP/"))).containsExactly("GET /containers/json",
                    "GET /containers/8dfafdbc3a40/json", "GET /containers/a1b2c3/json", "GET /containers/ffee/json");
            assertThat(containers).hasSize(3);
            assertThat(containers.get(0)).containsExactly(
                    entry("id", "8dfafdbc3a40"), entry("runtime", "docker"), entry("namespace", "moby"),
                    entry("name", "nginx"), entry("podName", "web-0"), entry("podNamespace", "default"),
                    entry("podUid", "uid-web"), entry("sandboxId", "a1b2c3"), entry("containerType", "container"),
                    entry("image", "nginx:1.25"), entry("pid", 4242L), entry("state", "running"),
                    entry("labels", Map.of("io.kubernetes.container.name", "nginx", "io.kubernetes.docker.type", "container",
                            "io.kubernetes.pod.name", "web-0", "io.kubernetes.pod.namespace", "default",
                            "io.kubernetes.pod.uid", "uid-web", "io.kubernetes.sandbox.id", "a1b2c3")));
            assertThat(containers.get(1)).containsEntry("containerType", "sandbox").containsEntry("sandboxId", "a1b2c3")
                    .containsEntry("name", "POD").containsEntry("pid", null);
            assertThat(containers.get(2)).containsEntry("name", "registry").containsEntry("podName", null)
                    .containsEntry("containerType", null).containsEntry("pid", null).containsEntry("labels", Map.of());
        }
    }

    @Test
    void shouldFindDockerUnderRunAndSkipContainerdsCopyOfItsContainers() throws Exception {
        task(root, "moby", "8dfafdbc3a40", config(Map.of()), 300L);
        task(root, "k8s.io", "ctr1", config(Map.of("io.kubernetes.cri.container-name", "nginx")), 200L);
        try (FakeDocker docker = new FakeDocker(root.resolve("run/docker.sock"), FakeDocker.withLength(200, "OK", DOCKER_LIST))) {
            List<Map<String, Object>> containers = containers(collect());

            assertThat(containers).extracting(c -> c.get("id") + "@" + c.get("runtime"))
                    .containsExactly("8dfafdbc3a40@docker", "a1b2c3@docker", "ffee@docker", "ctr1@containerd");
        }
    }

    @Test
    void shouldFailWithTheDaemonsErrorAnswer() throws Exception {
        try (FakeDocker docker = new FakeDocker(root.resolve("var/run/docker.sock"),
                FakeDocker.withLength(500, "Internal Server Error", "{\"message\":\"daemon is shutting down\"}"))) {
            WorkResult result = collect();

            assertThat(result.reason()).isEqualTo("ContainerRuntimeError");
            assertThat(result.message()).contains("500 Internal Server Error", "daemon is shutting down");
        }
    }

    @Test
    void shouldGiveUpOnADaemonThatNeverAnswers() throws Exception {
        try (FakeDocker docker = new FakeDocker(root.resolve("var/run/docker.sock"), (String) null)) {
            WorkResult result = collect();

            assertThat(result.reason()).isEqualTo("ContainerRuntimeError");
            assertThat(result.message()).contains("did not answer within 500 ms");
        }
    }

    @Test
    void shouldFailWhenADeadSocketIsLeftBehind() throws Exception {
        Files.createDirectories(root.resolve("var/run"));
        Files.createFile(root.resolve("var/run/docker.sock"));

        WorkResult result = collect();

        assertThat(result.reason()).isEqualTo("ContainerRuntimeError");
    }

    @Test
    void shouldFailWithNoContainerRuntimeOnAHostWithoutEither() throws Exception {
        WorkResult result = collect();

        assertThat(result.succeeded()).isFalse();
        assertThat(result.reason()).isEqualTo("NoContainerRuntime");
        assertThat(result.message()).contains("/run/containerd/io.containerd.runtime.v2.task", "/var/run/docker.sock");
    }
}
