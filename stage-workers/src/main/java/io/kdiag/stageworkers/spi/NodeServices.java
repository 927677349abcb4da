package io.kdiag.stageworkers.spi;

import java.util.Objects;

/**
 * What the node offers a worker beyond the abnormal itself.
 *
 * @param host where host paths are found
 * @param agentPid the agent's own process id, which no worker may signal
 * @param pods the pods bound to this node
 */
public record NodeServices(HostPaths host, long agentPid, PodSource pods) {
    /** Checks that every service is there; {@link PodSource#NONE} stands for "no cluster". */
    public NodeServices {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(pods, "pods");
    }
}
