package io.kdiag.stageworkers.spi;

/** Node services for worker tests: the given host tree and pid, no cluster. */
public final class TestNodes {
    private TestNodes() {
    }

    /** A node without a cluster. */
    public static NodeServices at(HostPaths host, long agentPid) {
        return with(host, agentPid, PodSource.NONE);
    }

    /** A node whose pods come from {@code pods}. */
    public static NodeServices with(HostPaths host, long agentPid, PodSource pods) {
        return new NodeServices(host, agentPid, pods);
    }
}
