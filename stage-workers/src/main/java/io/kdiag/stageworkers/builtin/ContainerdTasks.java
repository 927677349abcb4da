package io.kdiag.stageworkers.builtin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.kdiag.api.ApiSerialization;
import io.kdiag.stageworkers.spi.HostPaths;

/**
 * The tasks containerd runs through its runtime-v2 shims, read from the state it keeps on the host:
 * {@code /run/containerd/io.containerd.runtime.v2.task/<namespace>/<id>/} holds the OCI bundle ({@code config.json},
 * whose annotations the CRI plugin fills with the pod and sandbox of the container), {@code init.pid} (the
 * container's first process, written by runc) and {@code address} / {@code shim.pid} (the shim).
 */
final class ContainerdTasks {
    /** The host directory of the runtime-v2 task state. */
    static final String TASK_ROOT = "/run/containerd/io.containerd.runtime.v2.task";
    static final String CONTAINER_TYPE = "io.kubernetes.cri.container-type";
    static final String CONTAINER_NAME = "io.kubernetes.cri.container-name";
    static final String SANDBOX_ID = "io.kubernetes.cri.sandbox-id";
    static final String SANDBOX_NAME = "io.kubernetes.cri.sandbox-name";
    static final String SANDBOX_NAMESPACE = "io.kubernetes.cri.sandbox-namespace";
    static final String SANDBOX_UID = "io.kubernetes.cri.sandbox-uid";
    static final String IMAGE_NAME = "io.kubernetes.cri.image-name";

    private ContainerdTasks() {
    }

    /**
     * One task.
     *
     * @param namespace the containerd namespace ({@code k8s.io} for Kubernetes, {@code moby} for Docker)
     * @param id the container id (for a CRI sandbox, the sandbox id)
     * @param annotations the OCI annotations; empty when {@code config.json} is unreadable
     * @param pid the container's init pid, {@code null} when not written (yet)
     * @param shimPid the shim's pid, {@code null} when not written
     * @param address the shim's socket address, {@code null} when not written
     * @param error why the bundle could not be read; {@code null} when it was
     */
    record Task(String namespace, String id, Map<String, String> annotations, Long pid, Long shimPid, String address,
                String error) {
        String annotation(String key) {
            return annotations.get(key);
        }
    }

    /** Whether the host has containerd task state at all. */
    static boolean present(HostPaths host) {
        return Files.isDirectory(host.resolve(TASK_ROOT));
    }

    /** Every task, by namespace then id; none when containerd keeps no state on this host. */
    static List<Task> read(HostPaths host) throws IOException {
        Path root = host.resolve(TASK_ROOT);
        List<Task> tasks = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return tasks;
        }
        for (Path namespace : sortedDirectories(root)) {
            for (Path bundle : sortedDirectories(namespace)) {
                tasks.add(task(namespace.getFileName().toString(), bundle));
            }
        }
        return tasks;
    }

    private static List<Path> sortedDirectories(Path dir) throws IOException {
        List<Path> dirs = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, Files::isDirectory)) {
            entries.forEach(dirs::add);
        }
        dirs.sort(null);
        return dirs;
    }

    private static Task task(String namespace, Path bundle) {
        String id = bundle.getFileName().toString();
        Map<String, String> annotations = new LinkedHashMap<>();
        String error = null;
        try {
            Object raw = ApiSerialization.jsonObject(Files.readString(bundle.resolve("config.json"), StandardCharsets.UTF_8))
                    .get("annotations");
            if (raw instanceof Map<?, ?> map) {
                map.forEach((k, v) -> annotations.put(String.valueOf(k), String.valueOf(v)));
            }
        } catch (IOException | RuntimeException e) {
            // a bundle being created or removed has no complete config.json; the task still exists
            error = "cannot read " + bundle.resolve("config.json") + ": " + e.getMessage();
        }
        return new Task(namespace, id, annotations, number(bundle.resolve("init.pid")), number(bundle.resolve("shim.pid")),
                text(bundle.resolve("address")), error);
    }

    private static Long number(Path file) {
        String text = text(file);
        try {
            return text == null || text.isEmpty() ? null : Long.valueOf(text);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String text(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return null;
        }
    }
}
