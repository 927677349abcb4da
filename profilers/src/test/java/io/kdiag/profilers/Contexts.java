package io.kdiag.profilers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.stageworkers.FileArtifactStore;
import io.kdiag.stageworkers.spi.Artifact;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.PodSource;
import io.kdiag.stageworkers.spi.WorkContext;

/** Work contexts for profiler tests: the given host root, no cluster, artifacts in a temporary folder. */
final class Contexts {
    private static final Pattern RAW_LINK = Pattern.compile("href=\"\\.\\./([^/\"]+)/([^\"]+)\"");

    private Contexts() {
    }

    /** A context whose host is {@code hostRoot}. */
    static WorkContext on(Path hostRoot) {
        try {
            NodeServices node = new NodeServices(HostPaths.of(hostRoot), ProcessHandle.current().pid(), PodSource.NONE,
                    new FileArtifactStore(Files.createTempDirectory("kdiag-artifacts-"), Clock.systemUTC()));
            return new WorkContext("uid-1", "default", "slow-app", "node-1", new AbnormalSpec(), Map.of(), node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A context on this machine's own filesystem. */
    static WorkContext onThisHost() {
        return on(Path.of("/"));
    }

    /** The page's text. */
    static String text(Artifact page) {
        try {
            return Files.readString(page.file());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The raw artifact the page links to, as the store serves it. */
    static Artifact linkedRaw(WorkContext ctx, Artifact page) {
        Matcher link = RAW_LINK.matcher(text(page));
        if (!link.find()) {
            throw new AssertionError("no link to a raw file in " + page.path());
        }
        Artifact raw = ctx.node().artifacts().get(link.group(1)).orElseThrow();
        if (!raw.fileName().equals(link.group(2))) {
            throw new AssertionError("the link names " + link.group(2) + " but the artifact is " + raw.fileName());
        }
        return raw;
    }
}
