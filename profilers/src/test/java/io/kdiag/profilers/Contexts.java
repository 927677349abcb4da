package io.kdiag.profilers;

import java.nio.file.Path;
import java.util.Map;

import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.PodSource;
import io.kdiag.stageworkers.spi.WorkContext;

/** Work contexts for profiler tests: the given host root, no cluster. */
final class Contexts {
    private Contexts() {
    }

    /** A context whose host is {@code hostRoot}. */
    static WorkContext on(Path hostRoot) {
        NodeServices node = new NodeServices(HostPaths.of(hostRoot), ProcessHandle.current().pid(), PodSource.NONE);
        return new WorkContext("uid-1", "default", "slow-app", "node-1", new AbnormalSpec(), Map.of(), node);
    }

    /** A context on this machine's own filesystem. */
    static WorkContext onThisHost() {
        return on(Path.of("/"));
    }
}
