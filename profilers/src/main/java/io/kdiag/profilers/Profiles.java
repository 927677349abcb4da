package io.kdiag.profilers;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Function;

import io.kdiag.stageworkers.spi.Artifact;
import io.kdiag.stageworkers.spi.ProfilerEngine.ProfilerException;
import io.kdiag.stageworkers.spi.WorkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What the engines share: checking a pid, the sampling window, and storing a raw profile with its page. */
final class Profiles {
    /** Time allowed beyond the sampling window: attaching, writing and downloading the profile, rendering. */
    static final Duration GRACE = Duration.ofSeconds(15);

    private static final Logger LOG = LoggerFactory.getLogger(Profiles.class);

    private Profiles() {
    }

    /**
     * A raw profile as the tool wrote it.
     *
     * @param fileName the name it is served under
     * @param contentType its media type
     * @param content its bytes
     */
    record Raw(String fileName, String contentType, byte[] content) {
    }

    /** The sampling window in whole seconds, at least one. */
    static long seconds(Duration timeout) {
        return Math.max(1, timeout.toSeconds());
    }

    /**
     * The pid of a process of this node.
     *
     * @param field the spec field, for the message
     * @throws ProfilerException if it is missing or no such process is visible
     */
    static long requireProcess(Integer pid, String field) throws ProfilerException {
        if (pid == null || pid <= 0) {
            throw new ProfilerException(field + " must be the positive process id of the program to profile, got " + pid);
        }
        if (ProcessHandle.of(pid).isEmpty()) {
            throw new ProfilerException("no process with pid " + pid + " on this node (in a pod, the agent sees the node's "
                    + "processes only with hostPID: true)");
        }
        return pid;
    }

    /** Stores the raw profile and its flame graph, {@code flamegraph.html}, which is returned. */
    static Artifact publishFlameGraph(WorkContext ctx, String profiler, Duration expiration, Raw raw,
                                      FlameGraph.Header header, StackCounts stacks) throws ProfilerException {
        return publish(ctx, profiler, expiration, raw, "flamegraph.html",
                href -> FlameGraph.render(header, href, raw.fileName(), stacks));
    }

    /**
     * Stores the raw profile, then the page built for a link to it, both until {@code expiration}.
     *
     * @param page the page's HTML, given the raw file's address relative to the page
     * @return the page
     */
    static Artifact publish(WorkContext ctx, String profiler, Duration expiration, Raw raw, String pageName,
                            Function<String, String> page) throws ProfilerException {
        try {
            Artifact rawArtifact = ctx.node().artifacts().put(raw.fileName(), raw.contentType(), raw.content(), expiration);
            // both are served under /artifacts/<id>/<name>, so the page reaches its raw file whatever prefix a proxy adds
            String href = "../" + rawArtifact.id() + "/" + URLEncoder.encode(raw.fileName(), StandardCharsets.UTF_8);
            Artifact pageArtifact = ctx.node().artifacts().put(pageName, "text/html; charset=utf-8",
                    page.apply(href).getBytes(StandardCharsets.UTF_8), expiration);
            LOG.info("Profile stored namespace={} abnormal={} profiler={} page={} raw={} rawBytes={}", ctx.namespace(),
                    ctx.name(), profiler, pageArtifact.path(), rawArtifact.path(), raw.content().length);
            return pageArtifact;
        } catch (IOException e) {
            throw new ProfilerException("cannot store the profile on the node: " + e.getMessage(), e);
        }
    }
}
