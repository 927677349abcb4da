package io.kdiag.common.kubernetes;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.kdiag.common.config.ConfigKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a component talks to a Kubernetes API server, and the client it talks through. Every component and command
 * decides it here, from {@code kdiag.kubernetes}: {@code auto} connects when it finds a cluster the way kubectl does
 * (in a pod with a service-account token, {@code $KUBECONFIG}, or {@code ~/.kube/config}), {@code on} requires one, and
 * {@code off} never connects. The decision and where the configuration came from are logged once at start.
 */
public final class KubernetesConnection {
    /** The mode key every component reads. */
    public static final ConfigKey<Mode> KUBERNETES = new ConfigKey<>("kdiag.kubernetes", KubernetesConnection::parse, "auto",
            "Use a Kubernetes cluster: auto (when running in a pod, or given $KUBECONFIG or ~/.kube/config), on (required: "
                    + "fail to start without one) or off.");
    static final Path SERVICE_ACCOUNT_TOKEN = Path.of("/var/run/secrets/kubernetes.io/serviceaccount/token");
    private static final Logger LOG = LoggerFactory.getLogger(KubernetesConnection.class);

    /** The values of {@link #KUBERNETES}. */
    public enum Mode {
        /** Connect when a cluster is configured. */
        AUTO,
        /** A cluster is required. */
        ON,
        /** Never connect. */
        OFF
    }

    private KubernetesConnection() {
    }

    private static Mode parse(String text) {
        try {
            return Mode.valueOf(text.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("must be auto, on or off");
        }
    }

    /**
     * A client for the configured cluster, or empty when {@code mode} says none (with {@code auto}: when none is found).
     *
     * @param component who connects, for the log line
     * @throws IllegalStateException with {@code on}, when no client can be built
     */
    public static Optional<KubernetesClient> connect(Mode mode, String component) {
        Optional<String> found = mode == Mode.OFF ? Optional.empty()
                : configuration(System.getenv(), Files::isReadable, Path.of(System.getProperty("user.home")));
        if (mode == Mode.OFF || mode == Mode.AUTO && found.isEmpty()) {
            LOG.info("{} does not use Kubernetes kdiag.kubernetes={}{}", component, mode.name().toLowerCase(Locale.ROOT),
                    mode == Mode.OFF && System.getenv("KUBECONFIG") != null ? " (KUBECONFIG is set and ignored)" : "");
            return Optional.empty();
        }
        try {
            KubernetesClient client = new KubernetesClientBuilder().build();
            LOG.info("{} uses Kubernetes server={} from={}", component, client.getMasterUrl(), found.orElse("fabric8 defaults"));
            return Optional.of(client);
        } catch (RuntimeException e) {
            if (mode == Mode.ON) {
                throw new IllegalStateException("kdiag.kubernetes=on but no Kubernetes client can be built: " + e.getMessage(), e);
            }
            LOG.warn("{} does not use Kubernetes: the configuration found ({}) does not work: {}", component, found.orElse(""),
                    e.getMessage());
            return Optional.empty();
        }
    }

    /** A client for the cluster of a kubeconfig file (the CLI's {@code --kubeconfig}). */
    public static KubernetesClient fromKubeconfig(Path kubeconfig) {
        if (!Files.isRegularFile(kubeconfig)) {
            throw new IllegalArgumentException("kubeconfig " + kubeconfig + ": no such file");
        }
        return new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(kubeconfig.toFile())).build();
    }

    /**
     * Where a cluster's configuration is, in the order fabric8 (like kubectl) looks: in a pod (service host and token),
     * {@code $KUBECONFIG}, {@code ~/.kube/config}; empty when there is none.
     */
    static Optional<String> configuration(Map<String, String> env, Predicate<Path> readable, Path home) {
        if (env.get("KUBERNETES_SERVICE_HOST") != null && readable.test(SERVICE_ACCOUNT_TOKEN)) {
            return Optional.of("in-cluster service account");
        }
        String kubeconfig = env.get("KUBECONFIG");
        if (kubeconfig != null && !kubeconfig.isBlank()) {
            return Optional.of("$KUBECONFIG=" + kubeconfig);
        }
        Path userConfig = home.resolve(".kube").resolve("config");
        return readable.test(userConfig) ? Optional.of(userConfig.toString()) : Optional.empty();
    }
}
