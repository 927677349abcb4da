package io.kdiag.sourcebridge.kubernetes;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;

/** The node a pod runs on, from the API server. */
public final class PodNodes {
    private final KubernetesClient client;

    /** Pods as {@code client}'s API server knows them. */
    public PodNodes(KubernetesClient client) {
        this.client = client;
    }

    /** The pod's {@code spec.nodeName}, or {@code null} if the pod does not exist or is not scheduled yet. */
    public String nodeOf(String namespace, String name) {
        if (namespace == null || name == null || namespace.isBlank() || name.isBlank()) {
            return null;
        }
        Pod pod = client.pods().inNamespace(namespace).withName(name).get();
        if (pod == null || pod.getSpec() == null) {
            return null;
        }
        String node = pod.getSpec().getNodeName();
        return node == null || node.isBlank() ? null : node;
    }

    /** Whether the pod exists at all (to tell a missing pod from an unscheduled one). */
    boolean exists(String namespace, String name) {
        return client.pods().inNamespace(namespace).withName(name).get() != null;
    }
}
