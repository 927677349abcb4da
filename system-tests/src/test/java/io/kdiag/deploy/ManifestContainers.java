package io.kdiag.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Function;

import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;

/**
 * The containers of the rendered manifests as {@code podman run} options, so the container tier starts each component
 * exactly as the manifests say and the two cannot drift: image and arguments; every environment variable (values,
 * {@code fieldRef}s resolved by the caller as the kubelet would, {@code envFrom} ConfigMaps of the rendering); user,
 * capabilities, privilege escalation, read-only root filesystem, AppArmor; the host PID namespace; memory and CPU
 * limits; every volume mount (ConfigMaps written to files, emptyDirs, hostPaths and Secrets as folders the caller
 * chooses); the pod's {@code fsGroup} as a supplementary group;
 * the pod template's labels; every container port published on 127.0.0.1. A manifest feature this does not translate
 * fails rather than being left out silently.
 */
public final class ManifestContainers {
    private final Rendered rendered;

    private ManifestContainers(Rendered rendered) {
        this.rendered = rendered;
    }

    /** The kustomization in {@code dir} (resources and components given by absolute paths are fine), rendered. */
    public static ManifestContainers render(Path dir) {
        return new ManifestContainers(Rendered.of(dir.toString(), dir));
    }

    /**
     * Where the caller puts what the kubelet would provide.
     *
     * @param fieldRef the value of a {@code fieldRef} ({@code spec.nodeName}, {@code status.podIP}, ...)
     * @param hostPath the host folder or file standing for a {@code hostPath} volume's path and type
     * @param secret the folder holding a Secret's keys as files, by the Secret's name (the Secrets an operator makes)
     * @param volumes where emptyDir and ConfigMap volumes are made
     */
    public record Kubelet(Function<String, String> fieldRef, BiFunction<String, String, Path> hostPath, Function<String, Path> secret,
                          Path volumes) {
    }

    /**
     * One container as {@code podman run} options.
     *
     * @param workload the DaemonSet or Deployment
     * @param container the container's name
     * @param image the image
     * @param options the options of {@code podman run} before the image
     * @param args the arguments after it
     * @param env the environment, as set
     * @param ports the container ports, by name
     * @param readiness the readiness probe's HTTP path and port (null: none)
     * @param memoryLimitBytes the memory limit (0: none)
     */
    public record Run(String workload, String container, String image, List<String> options, List<String> args,
                      Map<String, String> env, Map<String, Integer> ports, HttpProbe readiness, long memoryLimitBytes) {
        /** {@code podman run -d --name NAME [extra] OPTIONS IMAGE ARGS}. */
        public List<String> command(String name, List<String> extra) {
            List<String> command = new ArrayList<>(List.of("podman", "run", "-d", "--name", name));
            command.addAll(extra);
            command.addAll(options);
            command.add(image);
            command.addAll(args);
            return command;
        }
    }

    /**
     * An HTTP probe.
     *
     * @param path its path
     * @param port its container port
     */
    public record HttpProbe(String path, int port) {
    }

    /** The pod spec of a DaemonSet or Deployment, with its template's labels. */
    private record Workload(PodSpec spec, Map<String, String> labels) {
    }

    /** The container {@code container} of the workload {@code workload}. */
    public Run container(String workload, String container, Kubelet kubelet) {
        Workload w = workload(workload);
        PodSpec pod = w.spec();
        Container c = pod.getContainers().stream().filter(x -> x.getName().equals(container)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(workload + " has no container " + container));
        List<String> options = new ArrayList<>();
        w.labels().forEach((k, v) -> options.addAll(List.of("--label", k + "=" + v)));
        if (Boolean.TRUE.equals(pod.getHostPID())) {
            options.addAll(List.of("--pid", "host"));
        }
        if (Boolean.TRUE.equals(pod.getHostNetwork()) || Boolean.TRUE.equals(pod.getHostIPC())) {
            throw new IllegalArgumentException(workload + ": hostNetwork/hostIPC are not translated");
        }
        Map<String, String> env = env(workload, c, kubelet);
        env.forEach((k, v) -> options.addAll(List.of("--env", k + "=" + v)));
        security(pod.getSecurityContext(), c.getSecurityContext(), options);
        long memory = 0;
        if (c.getResources() != null && c.getResources().getLimits() != null) {
            Quantity mem = c.getResources().getLimits().get("memory");
            if (mem != null) {
                memory = Quantity.getAmountInBytes(mem).longValueExact();
                options.addAll(List.of("--memory", Long.toString(memory)));
            }
            Quantity cpu = c.getResources().getLimits().get("cpu");
            if (cpu != null) {
                options.addAll(List.of("--cpus", Quantity.getAmountInBytes(cpu).toPlainString()));
            }
        }
        volumes(workload, pod, c, kubelet, options);
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (ContainerPort p : c.getPorts() == null ? List.<ContainerPort>of() : c.getPorts()) {
            ports.put(p.getName(), p.getContainerPort());
            options.addAll(List.of("-p", "127.0.0.1::" + p.getContainerPort()));
        }
        if (c.getCommand() != null && !c.getCommand().isEmpty()) {
            throw new IllegalArgumentException(workload + "/" + container + ": command is not translated, only args");
        }
        return new Run(workload, container, c.getImage(), options, c.getArgs() == null ? List.of() : List.copyOf(c.getArgs()),
                env, ports, probe(c.getReadinessProbe(), ports), memory);
    }

    private Workload workload(String name) {
        for (DaemonSet d : rendered.all("DaemonSet", DaemonSet.class)) {
            if (d.getMetadata().getName().equals(name)) {
                return new Workload(d.getSpec().getTemplate().getSpec(), d.getSpec().getTemplate().getMetadata().getLabels());
            }
        }
        for (Deployment d : rendered.all("Deployment", Deployment.class)) {
            if (d.getMetadata().getName().equals(name)) {
                return new Workload(d.getSpec().getTemplate().getSpec(), d.getSpec().getTemplate().getMetadata().getLabels());
            }
        }
        throw new IllegalArgumentException("no DaemonSet or Deployment " + name + " in " + rendered);
    }

    private Map<String, String> env(String workload, Container c, Kubelet kubelet) {
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvFromSource from : c.getEnvFrom() == null ? List.<EnvFromSource>of() : c.getEnvFrom()) {
            if (from.getConfigMapRef() == null || from.getPrefix() != null) {
                throw new IllegalArgumentException(workload + ": only envFrom configMapRef without prefix is translated");
            }
            env.putAll(configMap(from.getConfigMapRef().getName()).getData());
        }
        for (EnvVar e : c.getEnv() == null ? List.<EnvVar>of() : c.getEnv()) {
            if (e.getValueFrom() == null) {
                env.put(e.getName(), Objects.requireNonNullElse(e.getValue(), ""));
            } else if (e.getValueFrom().getFieldRef() != null) {
                env.put(e.getName(), kubelet.fieldRef().apply(e.getValueFrom().getFieldRef().getFieldPath()));
            } else if (e.getValueFrom().getConfigMapKeyRef() != null) {
                env.put(e.getName(), configMap(e.getValueFrom().getConfigMapKeyRef().getName()).getData()
                        .get(e.getValueFrom().getConfigMapKeyRef().getKey()));
            } else {
                throw new IllegalArgumentException(workload + ": env " + e.getName() + " comes from something not translated");
            }
        }
        return env;
    }

    private ConfigMap configMap(String name) {
        return rendered.configMap(name).orElseThrow(() -> new IllegalArgumentException("no ConfigMap " + name + " in " + rendered));
    }

    private static void security(PodSecurityContext pod, SecurityContext c, List<String> options) {
        Long user = c != null && c.getRunAsUser() != null ? c.getRunAsUser() : pod == null ? null : pod.getRunAsUser();
        Long group = c != null && c.getRunAsGroup() != null ? c.getRunAsGroup() : pod == null ? null : pod.getRunAsGroup();
        if (user != null) {
            options.addAll(List.of("--user", user + (group != null ? ":" + group : "")));
        }
        if (pod != null && pod.getFsGroup() != null) {
            options.addAll(List.of("--group-add", pod.getFsGroup().toString()));
        }
        if (c == null) {
            return;
        }
        if (Boolean.TRUE.equals(c.getPrivileged())) {
            options.add("--privileged");
        }
        if (Boolean.FALSE.equals(c.getAllowPrivilegeEscalation())) {
            options.addAll(List.of("--security-opt", "no-new-privileges"));
        }
        if (Boolean.TRUE.equals(c.getReadOnlyRootFilesystem())) {
            options.add("--read-only");
        }
        Capabilities caps = c.getCapabilities();
        if (caps != null) {
            (caps.getDrop() == null ? List.<String>of() : caps.getDrop()).forEach(d -> options.addAll(List.of("--cap-drop", d)));
            (caps.getAdd() == null ? List.<String>of() : caps.getAdd()).forEach(a -> options.addAll(List.of("--cap-add", a)));
        }
        if (c.getAppArmorProfile() != null && "Unconfined".equals(c.getAppArmorProfile().getType())) {
            options.addAll(List.of("--security-opt", "apparmor=unconfined"));
        }
    }

    private void volumes(String workload, PodSpec pod, Container c, Kubelet kubelet, List<String> options) {
        for (VolumeMount m : c.getVolumeMounts() == null ? List.<VolumeMount>of() : c.getVolumeMounts()) {
            Volume v = pod.getVolumes().stream().filter(x -> x.getName().equals(m.getName())).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException(workload + ": no volume " + m.getName()));
            Path source;
            if (v.getHostPath() != null) {
                source = kubelet.hostPath().apply(v.getHostPath().getPath(), v.getHostPath().getType());
            } else if (v.getSecret() != null) {
                source = kubelet.secret().apply(v.getSecret().getSecretName());
            } else if (v.getEmptyDir() != null) {
                source = folder(kubelet.volumes().resolve(workload).resolve(v.getName()));
            } else if (v.getConfigMap() != null) {
                source = folder(kubelet.volumes().resolve(workload).resolve(v.getName()));
                try {
                    for (Map.Entry<String, String> e : configMap(v.getConfigMap().getName()).getData().entrySet()) {
                        Files.writeString(source.resolve(e.getKey()), e.getValue());
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            } else {
                throw new IllegalArgumentException(workload + ": volume " + v.getName() + " is of a kind not translated");
            }
            if (m.getSubPath() != null) {
                throw new IllegalArgumentException(workload + ": subPath is not translated");
            }
            options.addAll(List.of("-v", source + ":" + m.getMountPath() + (Boolean.TRUE.equals(m.getReadOnly()) ? ":ro" : "")));
        }
    }

    /** A folder anyone may write, as an emptyDir is. */
    private static Path folder(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static HttpProbe probe(Probe probe, Map<String, Integer> ports) {
        if (probe == null || probe.getHttpGet() == null) {
            return null;
        }
        HTTPGetAction get = probe.getHttpGet();
        String port = get.getPort().getStrVal();
        int number = port != null ? ports.get(port) : get.getPort().getIntVal();
        return new HttpProbe(get.getPath(), number);
    }
}
