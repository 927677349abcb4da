package io.kdiag.statuswriter;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Predicate;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.kdiag.statuswriter.StatusWriterConfig.KubernetesMode;

/** Decides from {@code kdiag.kubernetes} and the environment whether to talk to a Kubernetes API server. */
final class KubernetesConnection {
    static final Path SERVICE_ACCOUNT_TOKEN = Path.of("/var/run/secrets/kubernetes.io/serviceaccount/token");

    private KubernetesConnection() {
    }

    /** A client configured the standard way (KUBECONFIG, ~/.kube/config, in-cluster), or {@code null} when not connecting. */
    static KubernetesClient connect(KubernetesMode mode) {
        return connects(mode, System.getenv(), Files::isReadable) ? new KubernetesClientBuilder().build() : null;
    }

    /** {@code auto} connects in a pod (service host and token present) or when {@code KUBECONFIG} names a file. */
    static boolean connects(KubernetesMode mode, Map<String, String> env, Predicate<Path> readable) {
        return switch (mode) {
            case ON -> true;
            case OFF -> false;
            case AUTO -> {
                String kubeconfig = env.get("KUBECONFIG");
                boolean inCluster = env.get("KUBERNETES_SERVICE_HOST") != null && readable.test(SERVICE_ACCOUNT_TOKEN);
                yield inCluster || (kubeconfig != null && !kubeconfig.isBlank());
            }
        };
    }
}
