package io.kdiag.profilers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Function;

import io.kdiag.schemas.Evidence;
import io.kdiag.stageworkers.spi.EvidenceStore;
import io.kdiag.stageworkers.spi.ProfilerEngine.ProfilerException;
import io.kdiag.stageworkers.spi.WorkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What the engines share: checking a pid, the sampling window, and storing a raw profile with its page. */
final class Profiles {
    /** Time allowed beyond the sampling window: attaching, writing and downloading the profile, rendering. */
    static final Duration GRACE = Duration.ofSeconds(15);

    /** The media type of every page. */
    static final String PAGE_TYPE = "text/html; charset=utf-8";

    private static final Logger LOG = LoggerFactory.getLogger(Profiles.class);

    private Profiles() {
    }

    /**
     * A raw profile as the tool wrote it.
     *
     * @param fileName its name, as the page shows it
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

    /** Stores the raw profile and its flame graph, which is returned. */
    static Evidence.Reference publishFlameGraph(WorkContext ctx, EvidenceStore evidence, String profiler, Raw raw,
                                                FlameGraph.Header header, StackCounts stacks) throws ProfilerException {
        return publish(ctx, evidence, profiler, raw, href -> FlameGraph.render(header, href, raw.fileName(), stacks));
    }

    /**
     * Stores the raw profile, then the page built with a link to it. The link is the raw file's evidence path, which
     * is relative to the page's own; the page's hash is therefore that of the page with its link.
     *
     * @param page the page's HTML, given the raw file's address relative to the page
     * @return the page
     */
    static Evidence.Reference publish(WorkContext ctx, EvidenceStore evidence, String profiler, Raw raw,
                                      Function<String, String> page) throws ProfilerException {
        try {
            Evidence.Reference rawProfile = evidence.store(raw.content(), raw.contentType());
            Evidence.Reference pageEvidence = evidence.store(page.apply(rawProfile.path()).getBytes(StandardCharsets.UTF_8),
                    PAGE_TYPE);
            LOG.info("Profile stored namespace={} abnormal={} profiler={} page={} raw={} rawBytes={}", ctx.namespace(),
                    ctx.name(), profiler, pageEvidence.sha256(), rawProfile.sha256(), raw.content().length);
            return pageEvidence;
        } catch (IOException e) {
            throw new ProfilerException("cannot keep the profile as evidence: " + e.getMessage(), e);
        }
    }
}
