package io.kdiag.stageworkers.spi;

import java.util.List;

import io.fabric8.kubernetes.api.model.Pod;

/** The pods bound to this node, as the API server knows them. */
public interface PodSource {
    /** The source of an agent that has no cluster to ask. */
    PodSource NONE = new PodSource() {
        @Override
        public boolean available() {
            return false;
        }

        @Override
        public List<Pod> podsOnNode() {
            return List.of();
        }
    };

    /** Whether the agent is connected to a cluster; without one, pod-based workers fail with a clear reason. */
    boolean available();

    /** Pods whose {@code spec.nodeName} is this node, from a cache a watch keeps current (no list per call). */
    List<Pod> podsOnNode();
}
