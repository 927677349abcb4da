package io.kdiag.stageworkers;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@code spec.commandExecutors} entries. No shell is involved, and nothing runs unless its whole argv has one of
 * the allowed forms ({@link ArgvPattern}): the executable a bare name looked up on the PATH or exactly an absolute path,
 * the arguments a literal prefix or each matching its pattern. Each command gets a new session and process group
 * ({@code setsid}) so a timeout kills everything it started; stdout and stderr are captured separately and capped.
 */
public final class CommandExecutor {
    /** Seconds a command may run when its spec gives none. */
    public static final int DEFAULT_TIMEOUT_SECONDS = 30;
    /** Default cap of each of stdout and stderr. */
    public static final int DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(CommandExecutor.class);
    private static final long DRAIN_MILLIS = 2_000;

    private final List<ArgvPattern> allowlist;
    private final int maxOutputBytes;
    private final String setsid;

    /** An executor allowing commands of these forms, with the default output cap. */
    public CommandExecutor(List<ArgvPattern> allowlist) {
        this(allowlist, DEFAULT_MAX_OUTPUT_BYTES);
    }

    /** An executor allowing commands of these forms, capping each output stream at {@code maxOutputBytes}. */
    public CommandExecutor(List<ArgvPattern> allowlist, int maxOutputBytes) {
        this.allowlist = List.copyOf(allowlist);
        this.maxOutputBytes = maxOutputBytes;
        this.setsid = onPath("setsid");
    }

    /**
     * Runs a command, if the policy allows it; never throws for the command's faults.
     *
     * @param command executable and arguments
     * @param timeoutSeconds seconds before the command's process group is killed; {@code null} or less than 1 means 30
     * @throws InterruptedException if the calling thread is interrupted; the command is killed first
     */
    public CommandResult run(List<String> command, Integer timeoutSeconds) throws InterruptedException {
        long start = System.nanoTime();
        List<String> cmd = command == null ? List.of() : List.copyOf(command);
        if (cmd.isEmpty() || cmd.get(0).isBlank()) {
            return new CommandResult(cmd, "", "", "empty command refused by policy", CommandResult.Status.REFUSED, 0);
        }
        if (allowlist.stream().noneMatch(p -> p.matches(cmd))) {
            return new CommandResult(cmd, "", "", "command " + cmd + " refused by policy: it has none of the allowed forms",
                    CommandResult.Status.REFUSED, 0);
        }
        int timeout = timeoutSeconds == null || timeoutSeconds < 1 ? DEFAULT_TIMEOUT_SECONDS : timeoutSeconds;
        List<String> argv = new ArrayList<>();
        if (setsid != null) {
            argv.add(setsid);
        }
        argv.addAll(cmd);
        Process process;
        try {
            process = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            return new CommandResult(cmd, "", "", "cannot start command " + cmd + ": " + e.getMessage(),
                    CommandResult.Status.FAILED, millisSince(start));
        }
        CappedReader out = CappedReader.start(process.getInputStream(), maxOutputBytes, "kdiag-command-stdout");
        CappedReader err = CappedReader.start(process.getErrorStream(), maxOutputBytes, "kdiag-command-stderr");
        boolean exited;
        try {
            exited = process.waitFor(timeout, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            killTree(process);
            throw e;
        }
        if (!exited) {
            killTree(process);
        }
        // a descendant that left the group may keep the pipes open; take what arrived rather than wait for it
        out.join(DRAIN_MILLIS);
        err.join(DRAIN_MILLIS);
        long duration = millisSince(start);
        if (!exited) {
            return new CommandResult(cmd, out.text(), err.text(), "command " + cmd + " timed out after " + timeout + " s",
                    CommandResult.Status.TIMED_OUT, duration);
        }
        int code = process.exitValue();
        return new CommandResult(cmd, out.text(), err.text(), code == 0 ? null : "exit code " + code,
                code == 0 ? CommandResult.Status.SUCCEEDED : CommandResult.Status.EXITED_NON_ZERO, duration);
    }

    private void killTree(Process process) throws InterruptedException {
        List<ProcessHandle> descendants = process.descendants().toList();
        if (setsid != null) {
            // the command leads its own process group, whose id is its pid
            try {
                new ProcessBuilder("kill", "-s", "KILL", "--", "-" + process.pid())
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .start().waitFor(5, TimeUnit.SECONDS);
            } catch (IOException e) {
                LOG.debug("cannot kill process group pid={}", process.pid(), e);
            }
        }
        // processes that left the group (or no setsid at all): kill what was seen, then the command itself
        descendants.forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
    }

    private static String onPath(String name) {
        String path = System.getenv("PATH");
        for (String dir : (path == null ? "/usr/bin:/bin" : path).split(":")) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return null;
    }

    private static long millisSince(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    /** Drains a stream on its own thread, keeping the first {@code cap} bytes and discarding the rest. */
    private static final class CappedReader {
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private final int cap;
        private final Thread thread;
        private boolean truncated;

        private CappedReader(InputStream in, int cap, String threadName) {
            this.cap = cap;
            this.thread = new Thread(() -> drain(in), threadName);
            this.thread.setDaemon(true);
        }

        static CappedReader start(InputStream in, int cap, String threadName) {
            CappedReader reader = new CappedReader(in, cap, threadName);
            reader.thread.start();
            return reader;
        }

        private void drain(InputStream in) {
            byte[] buffer = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    synchronized (this) {
                        int keep = Math.min(n, cap - kept.size());
                        kept.write(buffer, 0, Math.max(keep, 0));
                        truncated |= keep < n;
                    }
                }
            } catch (IOException e) {
                // the stream closes under us when the process is killed; what was read is kept
            }
        }

        void join(long millis) throws InterruptedException {
            thread.join(millis);
        }

        synchronized String text() {
            String text = kept.toString(StandardCharsets.UTF_8);
            return truncated ? text + "\n[output truncated at " + cap + " bytes]" : text;
        }
    }
}
