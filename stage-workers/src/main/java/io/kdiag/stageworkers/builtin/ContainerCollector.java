package io.kdiag.stageworkers.builtin;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;

/**
 * {@code container-collector}: the containers of this node, into {@code containerInformation}, from whichever
 * runtime the node has. containerd: the runtime-v2 task state under {@code /run/containerd} (every task, with the
 * pod the CRI annotations name). Docker: {@code GET /containers/json} on {@code /var/run/docker.sock} (running
 * containers, as the original listed them; pod fields from the dockershim labels; the pid from
 * {@code GET /containers/<id>/json}, as the list does not carry it). When Docker answers, containerd's {@code moby}
 * namespace is skipped: it holds the same containers. Every entry has the fields {@code id, runtime, namespace, name,
 * podName, podNamespace, podUid, sandboxId, containerType, image, pid, state}; Docker entries add {@code labels};
 * containerd entries add {@code shimPid} and {@code address} when known, and {@code error} when the bundle was
 * unreadable.
 */
public final class ContainerCollector implements StageWorker {
    private static final int CALL_TIMEOUT_SECONDS = 60;
    /** The context key of the output. */
    public static final String CONTAINER_INFORMATION = "containerInformation";
    private static final List<String> DOCKER_SOCKETS = List.of("/var/run/docker.sock", "/run/docker.sock");
    private static final Duration DOCKER_TIMEOUT = Duration.ofSeconds(10);
    private static final String DOCKER_NAMESPACE = "moby";

    private final Duration dockerTimeout;

    /** The collector, as the service loader creates it. */
    public ContainerCollector() {
        this(DOCKER_TIMEOUT);
    }

    ContainerCollector(Duration dockerTimeout) {
        this.dockerTimeout = dockerTimeout;
    }

    @Override
    public String name() {
        return "container-collector";
    }

    @Override
    public Stage stage() {
        return Stage.InformationCollection;
    }

    /** {@value #CALL_TIMEOUT_SECONDS} s, the timeoutSeconds of KubeDiag v0.1.6's registration of this built-in. */
    @Override
    public Duration timeout() {
        return Duration.ofSeconds(CALL_TIMEOUT_SECONDS);
    }

    @Override
    public WorkResult run(WorkContext ctx) throws IOException {
        HostPaths host = ctx.host();
        Path dockerSocket = dockerSocket(host);
        boolean containerd = ContainerdTasks.present(host);
        if (dockerSocket == null && !containerd) {
            return WorkResult.failed("NoContainerRuntime", "neither containerd task state (" + ContainerdTasks.TASK_ROOT
                    + ") nor a Docker socket (" + String.join(", ", DOCKER_SOCKETS) + ") under the host root; "
                    + "mount /run from the host");
        }
        List<Map<String, Object>> containers = new ArrayList<>();
        if (dockerSocket != null) {
            DockerEngine engine = new DockerEngine(dockerSocket, dockerTimeout);
            List<Map<String, Object>> listed;
            try {
                listed = engine.containers();
            } catch (IOException e) {
                return WorkResult.failed("ContainerRuntimeError", "cannot list Docker containers on " + dockerSocket + ": " + e.getMessage());
            }
            listed.forEach(c -> containers.add(docker(c, pid(engine, c.get("Id")))));
        }
        if (containerd) {
            for (ContainerdTasks.Task task : ContainerdTasks.read(host)) {
                if (dockerSocket == null || !task.namespace().equals(DOCKER_NAMESPACE)) {
                    containers.add(containerd(task, host));
                }
            }
        }
        return WorkResult.succeeded(Map.of(CONTAINER_INFORMATION, containers), Set.of());
    }

    private static Path dockerSocket(HostPaths host) {
        // /var/run is usually a link to /run, which would resolve outside the host root: try both
        for (String candidate : DOCKER_SOCKETS) {
            Path socket = host.resolve(candidate);
            if (Files.exists(socket)) {
                return socket;
            }
        }
        return null;
    }

    private static Map<String, Object> containerd(ContainerdTasks.Task task, HostPaths host) {
        String type = task.annotation(ContainerdTasks.CONTAINER_TYPE);
        String name = task.annotation(ContainerdTasks.CONTAINER_NAME);
        Map<String, Object> c = entry(task.id(), "containerd", task.namespace(), name == null ? task.id() : name,
                task.annotation(ContainerdTasks.SANDBOX_NAME), task.annotation(ContainerdTasks.SANDBOX_NAMESPACE),
                task.annotation(ContainerdTasks.SANDBOX_UID), task.annotation(ContainerdTasks.SANDBOX_ID), type,
                task.annotation(ContainerdTasks.IMAGE_NAME), task.pid(), state(task.pid(), host));
        if (task.shimPid() != null) {
            c.put("shimPid", task.shimPid());
        }
        if (task.address() != null) {
            c.put("address", task.address());
        }
        if (task.error() != null) {
            c.put("error", task.error());
        }
        return c;
    }

    /** containerd keeps no state file; a task whose init process is alive is running. */
    private static String state(Long pid, HostPaths host) {
        if (pid == null) {
            return "unknown";
        }
        return Files.isDirectory(host.resolve("/proc/" + pid)) ? "running" : "stopped";
    }

    /** The container's init process as the host sees it; null when it has none (not running) or is gone already. */
    private static Long pid(DockerEngine engine, Object id) {
        if (id == null) {
            return null;
        }
        try {
            Map<String, Object> inspected = engine.inspect(String.valueOf(id));
            return inspected.get("State") instanceof Map<?, ?> state && state.get("Pid") instanceof Number pid && pid.longValue() > 0
                    ? pid.longValue() : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static Map<String, Object> docker(Map<String, Object> listed, Long pid) {
        Map<?, ?> labels = listed.get("Labels") instanceof Map<?, ?> l ? l : Map.of();
        String id = string(listed.get("Id"));
        String dockerType = string(labels.get("io.kubernetes.docker.type"));
        String type = dockerType == null ? null : dockerType.equals("podsandbox") ? "sandbox" : dockerType;
        String name = string(labels.get("io.kubernetes.container.name"));
        if (name == null && listed.get("Names") instanceof List<?> names && !names.isEmpty()) {
            name = String.valueOf(names.get(0)).replaceFirst("^/", "");
        }
        String sandboxId = "sandbox".equals(type) ? id : string(labels.get("io.kubernetes.sandbox.id"));
        Map<String, Object> c = entry(id, "docker", DOCKER_NAMESPACE, name, string(labels.get("io.kubernetes.pod.name")),
                string(labels.get("io.kubernetes.pod.namespace")), string(labels.get("io.kubernetes.pod.uid")), sandboxId,
                type, string(listed.get("Image")), pid, string(listed.get("State")));
        Map<String, Object> allLabels = new LinkedHashMap<>();
        labels.forEach((k, v) -> allLabels.put(String.valueOf(k), string(v)));
        c.put("labels", allLabels);
        return c;
    }

    private static Map<String, Object> entry(String id, String runtime, String namespace, String name, String podName,
                                             String podNamespace, String podUid, String sandboxId, String containerType,
                                             String image, Long pid, String state) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("id", id);
        c.put("runtime", runtime);
        c.put("namespace", namespace);
        c.put("name", name);
        c.put("podName", podName);
        c.put("podNamespace", podNamespace);
        c.put("podUid", podUid);
        c.put("sandboxId", sandboxId);
        c.put("containerType", containerType);
        c.put("image", image);
        c.put("pid", pid);
        c.put("state", state);
        return c;
    }

    private static String string(Object value) {
        return value == null ? null : String.valueOf(value);
    }
}
