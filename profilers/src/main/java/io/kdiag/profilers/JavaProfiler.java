package io.kdiag.profilers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.schemas.Evidence;
import io.kdiag.stageworkers.spi.EvidenceStore;
import io.kdiag.stageworkers.spi.ProfilerEngine;
import io.kdiag.stageworkers.spi.WorkContext;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code java}: profiles a JVM of the node with the tools of the JDK the agent runs on ({@code jcmd} next to
 * {@code java.home}), attaching to {@code spec.java.pid}.
 * <ul>
 * <li>{@code CPU} (default): a Flight Recorder recording with the {@code profile} settings for the timeout, drawn as
 * a flame graph of its {@code jdk.ExecutionSample} stacks; the {@code .jfr} file is kept as the raw profile (JDK
 * Mission Control opens it). The target JVM writes the recording into its own {@code /tmp}, which the agent reads
 * through {@code /proc/<pid>/root/tmp}, so this works whether the JVM runs in a container or on the host.</li>
 * <li>{@code HeapHistogram}: {@code GC.class_histogram}, the live objects by class (it runs a full GC first).</li>
 * </ul>
 * The original's {@code Arthas} and {@code MemoryAnalyzer} are refused with what to use instead.
 */
public final class JavaProfiler implements ProfilerEngine {
    private static final Logger LOG = LoggerFactory.getLogger(JavaProfiler.class);
    private static final String EXECUTION_SAMPLE = "jdk.ExecutionSample";
    private static final Duration JCMD_TIMEOUT = Duration.ofSeconds(30);
    private static final long POLL_MILLIS = 250;
    // SIGQUIT is signal 3; SigCgt has bit n-1 set for each caught signal n
    private static final long SIGQUIT_MASK = 1L << 2;

    private final Path jcmd;

    /** The engine, with the {@code jcmd} of the JDK the agent runs on. */
    public JavaProfiler() {
        this(Path.of(System.getProperty("java.home"), "bin", "jcmd"));
    }

    JavaProfiler(Path jcmd) {
        this.jcmd = jcmd;
    }

    @Override
    public String language() {
        return "java";
    }

    @Override
    public Evidence.Reference profile(ProfilerSpec spec, WorkContext ctx, Duration timeout, EvidenceStore evidence) throws ProfilerException {
        if (spec.java == null) {
            throw new ProfilerException("profiler " + spec.name + " has no java section");
        }
        String type = spec.java.type == null || spec.java.type.isBlank() ? "CPU" : spec.java.type;
        switch (type) {
            case "CPU" -> {
                return cpu(spec, ctx, jvm(ctx, spec.java.pid), timeout, evidence);
            }
            case "HeapHistogram" -> {
                return heapHistogram(spec, ctx, jvm(ctx, spec.java.pid), evidence);
            }
            case "Arthas" -> throw new ProfilerException("java.type Arthas is not supported: the agent profiles JVMs with "
                    + "their built-in Flight Recorder instead; use java.type CPU for a flame graph, or HeapHistogram for "
                    + "the live objects by class");
            case "MemoryAnalyzer" -> throw new ProfilerException("java.type MemoryAnalyzer is not supported: the agent does "
                    + "not ship Eclipse MAT; use java.type HeapHistogram for the live objects by class, or take a heap dump "
                    + "(jcmd <pid> GC.heap_dump <file>) and open it in Eclipse MAT off the node");
            default -> throw new ProfilerException("unknown java.type " + type + ": expected CPU or HeapHistogram");
        }
    }

    private static long jvm(WorkContext ctx, Integer pid) throws ProfilerException {
        long checked = Profiles.requireProcess(pid, "java.pid");
        requireJvm(ctx, checked);
        return checked;
    }

    private Evidence.Reference cpu(ProfilerSpec spec, WorkContext ctx, long pid, Duration timeout, EvidenceStore evidence)
            throws ProfilerException {
        long seconds = Profiles.seconds(timeout);
        String recording = "kdiag-" + UUID.randomUUID();
        // the path as the target JVM sees it, and as the agent reaches it through the target's root directory
        String targetFile = "/tmp/" + recording + ".jfr";
        Path file = hostPath(ctx, "/proc/" + pid + "/root" + targetFile);
        String started = jcmd(pid, "JFR.start", "name=" + recording, "duration=" + seconds + "s", "filename=" + targetFile,
                "settings=profile");
        if (!started.contains("Started recording")) {
            throw new ProfilerException("cannot start a flight recording in pid " + pid + ": " + started.strip());
        }
        boolean finished = false;
        try {
            sleep(seconds * 1000);
            finished = awaitRecordingEnd(pid, recording);
            if (!finished) {
                throw new ProfilerException("the flight recording of pid " + pid + " did not end within "
                        + Profiles.GRACE.toSeconds() + " s after its duration");
            }
            if (!Files.isRegularFile(file)) {
                throw new ProfilerException("the flight recording of pid " + pid + " is not at " + file + ": the JVM "
                        + "writes it to " + targetFile + " in its own filesystem, so its /tmp must be writable, and the "
                        + "agent reads it through /proc/<pid>/root, which needs the same user or root");
            }
            byte[] raw = Files.readAllBytes(file);
            StackCounts stacks = executionSamples(file);
            FlameGraph.Header header = new FlameGraph.Header(spec.name + ": Java CPU profile of pid " + pid,
                    "Java CPU, Flight Recorder execution samples over " + seconds + " s", "samples");
            return Profiles.publishFlameGraph(ctx, evidence, spec.name,
                    new Profiles.Raw("recording.jfr", "application/octet-stream", raw), header, stacks);
        } catch (IOException e) {
            throw new ProfilerException("cannot read the flight recording of pid " + pid + ": " + e.getMessage(), e);
        } finally {
            if (!finished) {
                stopQuietly(pid, recording);
            }
            deleteQuietly(file);
        }
    }

    private Evidence.Reference heapHistogram(ProfilerSpec spec, WorkContext ctx, long pid, EvidenceStore evidence) throws ProfilerException {
        String output = jcmd(pid, "GC.class_histogram");
        HeapHistogram histogram;
        try {
            histogram = HeapHistogram.parse(output);
        } catch (IllegalArgumentException e) {
            throw new ProfilerException("jcmd GC.class_histogram failed for pid " + pid + ": " + e.getMessage(), e);
        }
        String title = spec.name + ": Java heap histogram of pid " + pid;
        return Profiles.publish(ctx, evidence, spec.name,
                new Profiles.Raw("class-histogram.txt", "text/plain; charset=utf-8", output.getBytes(StandardCharsets.UTF_8)),
                href -> histogram.render(title, href));
    }

    /** The recording's stacks, root first, one sample each; a stack cut at the recorder's depth limit says so at its root. */
    static StackCounts executionSamples(Path recording) throws IOException {
        StackCounts stacks = new StackCounts();
        try (RecordingFile file = new RecordingFile(recording)) {
            while (file.hasMoreEvents()) {
                RecordedEvent event = file.readEvent();
                RecordedStackTrace trace = event.getStackTrace();
                if (trace == null || !EXECUTION_SAMPLE.equals(event.getEventType().getName())) {
                    continue;
                }
                List<RecordedFrame> frames = trace.getFrames();
                List<String> rootFirst = new ArrayList<>(frames.size() + 1);
                if (trace.isTruncated()) {
                    rootFirst.add("[truncated stack]");
                }
                for (int i = frames.size() - 1; i >= 0; i--) {
                    RecordedMethod method = frames.get(i).getMethod();
                    rootFirst.add(method == null ? "[unknown]" : method.getType().getName() + "." + method.getName());
                }
                stacks.add(rootFirst, 1);
            }
        }
        return stacks;
    }

    /** Waits until the recording is gone from the JVM's list, which happens once it is written. */
    private boolean awaitRecordingEnd(long pid, String recording) throws ProfilerException {
        long deadline = System.nanoTime() + Profiles.GRACE.toNanos();
        while (System.nanoTime() < deadline) {
            String check = jcmd(pid, "JFR.check", "name=" + recording);
            if (check.contains("Could not find")) {
                return true;
            }
            sleep(POLL_MILLIS);
        }
        return false;
    }

    /**
     * Refuses a process that does not handle SIGQUIT: attaching sends it one to start the JVM's attach listener, and
     * its default action would kill a process that is not a JVM (or a JVM started with {@code -Xrs}).
     */
    static void requireJvm(WorkContext ctx, long pid) throws ProfilerException {
        Path status = hostPath(ctx, "/proc/" + pid + "/status");
        try {
            for (String line : Files.readAllLines(status, StandardCharsets.UTF_8)) {
                if (line.startsWith("SigCgt:")) {
                    long caught = Long.parseUnsignedLong(line.substring("SigCgt:".length()).strip(), 16);
                    if ((caught & SIGQUIT_MASK) == 0) {
                        throw new ProfilerException("pid " + pid + " is not a JVM the agent can attach to: it does not "
                                + "handle SIGQUIT (not Java, or started with -Xrs)");
                    }
                    return;
                }
            }
            throw new ProfilerException("cannot tell whether pid " + pid + " is a JVM: no SigCgt line in " + status);
        } catch (IOException | NumberFormatException e) {
            throw new ProfilerException("cannot tell whether pid " + pid + " is a JVM: " + e.getMessage(), e);
        }
    }

    private String jcmd(long pid, String... command) throws ProfilerException {
        if (!Files.isExecutable(jcmd)) {
            throw new ProfilerException("jcmd not found at " + jcmd + ": the agent must run on a JDK, not a JRE");
        }
        List<String> argv = new ArrayList<>(List.of(jcmd.toString(), Long.toString(pid)));
        argv.addAll(List.of(command));
        Tool.Output output = Tool.run(argv, JCMD_TIMEOUT);
        if (output.exitCode() != 0) {
            String cause = cause(output.text());
            if (cause.contains("Permission denied")) {
                throw new ProfilerException("jcmd " + command[0] + " cannot attach to pid " + pid + ": " + cause + ". "
                        + attachPermission(pid));
            }
            throw new ProfilerException("jcmd " + command[0] + " failed for pid " + pid + " (is it a JVM, run by the agent's "
                    + "user or is the agent root?): " + cause);
        }
        return output.text();
    }

    /**
     * Why attaching was refused: the JVM's attach socket belongs to the JVM's user alone (mode 0600), so the agent must
     * run as that user, or as root with {@code CAP_DAC_OVERRIDE} (which the DaemonSet does not grant).
     */
    static String attachPermission(long pid) {
        long agentUid = -1;
        long targetUid = -1;
        boolean dacOverride = false;
        try {
            agentUid = effectiveUid(Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.UTF_8));
            targetUid = effectiveUid(Files.readAllLines(Path.of("/proc/" + pid + "/status"), StandardCharsets.UTF_8));
            for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.UTF_8)) {
                if (line.startsWith("CapEff:")) {
                    dacOverride = (Long.parseUnsignedLong(line.substring(7).strip(), 16) & (1L << 1)) != 0;
                }
            }
        } catch (IOException | RuntimeException e) {
            return "The JVM's attach socket is its own user's; the agent must run as that user or as root with CAP_DAC_OVERRIDE.";
        }
        if (targetUid != agentUid && !dacOverride) {
            return "The JVM runs as uid " + targetUid + " and the agent as uid " + agentUid + " without CAP_DAC_OVERRIDE: the "
                    + "JVM's attach socket is its user's alone (mode 0600). Profile JVMs that run as the agent's user, or "
                    + "give the agent CAP_DAC_OVERRIDE.";
        }
        return "The agent runs as uid " + agentUid + " and the JVM as uid " + targetUid + ".";
    }

    private static long effectiveUid(List<String> status) {
        for (String line : status) {
            if (line.startsWith("Uid:")) {
                return Long.parseLong(line.substring(4).strip().split("\\s+")[1]);
            }
        }
        throw new IllegalStateException("no Uid line");
    }

    /** The line of jcmd's output that says what went wrong, rather than its whole stack trace. */
    private static String cause(String text) {
        for (String line : text.split("\n")) {
            if (line.contains("Exception") || line.contains("Error")) {
                return line.strip();
            }
        }
        return text.strip();
    }

    private void stopQuietly(long pid, String recording) {
        try {
            jcmd(pid, "JFR.stop", "name=" + recording);
        } catch (ProfilerException e) {
            LOG.warn("Cannot stop flight recording pid={} recording={} reason={}", pid, recording, e.getMessage());
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warn("Cannot delete flight recording file={} reason={}", file, e.getMessage());
        }
    }

    private static Path hostPath(WorkContext ctx, String path) throws ProfilerException {
        try {
            return ctx.host().resolve(path);
        } catch (IllegalArgumentException e) {
            throw new ProfilerException(e.getMessage(), e);
        }
    }

    private static void sleep(long millis) throws ProfilerException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProfilerException("interrupted while profiling", e);
        }
    }
}
