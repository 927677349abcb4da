package io.kdiag.stageworkers.spi;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Clock;

import io.kdiag.stageworkers.FileArtifactStore;

/** Node services for worker tests: the given host tree and pid, no cluster, artifacts in a temporary folder. */
public final class TestNodes {
    private TestNodes() {
    }

    /** A node without a cluster. */
    public static NodeServices at(HostPaths host, long agentPid) {
        return with(host, agentPid, PodSource.NONE);
    }

    /** A node whose pods come from {@code pods}. */
    public static NodeServices with(HostPaths host, long agentPid, PodSource pods) {
        try {
            return new NodeServices(host, agentPid, pods,
                    new FileArtifactStore(Files.createTempDirectory("kdiag-artifacts-"), Clock.systemUTC()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
