package io.kdiag.sourcebridge;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.kdiag.common.config.ConfigKey;

/** Whether and how to reach a Kubernetes cluster: {@code kdiag.kubernetes} = {@code auto}, {@code on} or {@code off}. */
public final class ClusterAccess {
    /** The mode key, shared by the bridge and the log source. */
    public static final ConfigKey<Mode> KUBERNETES = new ConfigKey<>("kdiag.kubernetes", ClusterAccess::parse, "auto",
            "Use a Kubernetes cluster: auto (when running in a pod or a kubeconfig exists), on (required) or off.");

    /** The values of {@link #KUBERNETES}. */
    public enum Mode {
        /** Use a cluster when one is configured. */
        AUTO,
        /** A cluster is required. */
        ON,
        /** Never use a cluster. */
        OFF
    }

    private ClusterAccess() {
    }

    private static Mode parse(String text) {
        try {
            return Mode.valueOf(text.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("must be auto, on or off");
        }
    }

    /** A client for the configured cluster, or {@code null} when the mode says none (or, with auto, none is configured). */
    public static KubernetesClient connect(Mode mode) {
        if (mode == Mode.OFF || mode == Mode.AUTO && !configured()) {
            return null;
        }
        return new KubernetesClientBuilder().build();
    }

    /** In a pod (service account) or with a kubeconfig, as fabric8's auto-configuration finds them. */
    static boolean configured() {
        if (System.getenv("KUBERNETES_SERVICE_HOST") != null) {
            return true;
        }
        String kubeconfig = System.getenv("KUBECONFIG");
        if (kubeconfig != null && !kubeconfig.isBlank()) {
            return true;
        }
        return Files.isRegularFile(Path.of(System.getProperty("user.home"), ".kube", "config"));
    }
}
