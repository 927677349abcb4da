package io.kdiag.stageworkers.builtin;

import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.kdiag.stageworkers.spi.PodSource;

/** Pods and pod sources for the built-in tests. */
final class Pods {
    private Pods() {
    }

    static Pod pod(String namespace, String name, String uid, String node) {
        return new PodBuilder().withNewMetadata().withNamespace(namespace).withName(name).withUid(uid)
                .withCreationTimestamp("2020-07-15T03:35:24Z").endMetadata()
                .withNewSpec().withNodeName(node).addNewContainer().withName("main").withImage("busybox").endContainer().endSpec()
                .withNewStatus().withPhase("Running").endStatus().build();
    }

    /** A connected source serving these pods. */
    static PodSource source(List<Pod> pods) {
        return new PodSource() {
            @Override
            public boolean available() {
                return true;
            }

            @Override
            public List<Pod> podsOnNode() {
                return pods;
            }
        };
    }

    /** The JSON form of a pod's metadata, as pod-collector puts it into the context. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> metadataJson(Pod pod) {
        return (Map<String, Object>) io.kdiag.api.ApiSerialization.convert(pod.getMetadata(), Map.class);
    }
}
