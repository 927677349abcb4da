package io.kdiag.systemtests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The podman command line, as {@code .ci/with-podman} sets it up ({@code CONTAINERS_CONF} in the environment). Every
 * container, pod and network a test makes carries the label {@code io.kdiag.test-run=<KDIAG_TEST_RUN>}, by which
 * the script removes them however the run ends.
 */
final class Podman {
    /** The run's label value. */
    static final String RUN = System.getenv().getOrDefault("KDIAG_TEST_RUN", "local-" + ProcessHandle.current().pid());
    static final String RUN_LABEL = "io.kdiag.test-run=" + RUN;

    private Podman() {
    }

    /** How a command ended. */
    record Result(int exitCode, String out, String err) {
        Result orThrow(List<String> command) {
            if (exitCode != 0) {
                throw new IllegalStateException(String.join(" ", command) + " exited " + exitCode + ":\n" + err + out);
            }
            return this;
        }
    }

    /** {@code podman ARGS...}, which must succeed; its standard output, stripped. */
    static String podman(String... args) {
        List<String> command = new ArrayList<>(List.of("podman"));
        command.addAll(List.of(args));
        return run(command, Duration.ofMinutes(10), null).orThrow(command).out().strip();
    }

    /** {@code podman ARGS...}, however it ends. */
    static Result tryPodman(String... args) {
        List<String> command = new ArrayList<>(List.of("podman"));
        command.addAll(List.of(args));
        return run(command, Duration.ofMinutes(10), null);
    }

    /** Runs a command in {@code dir} (null: the current one) and waits at most {@code timeout} for it. */
    static Result run(List<String> command, Duration timeout, Path dir) {
        try {
            Path out = Files.createTempFile("kdiag-cmd-", ".out");
            Path err = Files.createTempFile("kdiag-cmd-", ".err");
            try {
                ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
                if (dir != null) {
                    builder.directory(dir.toFile());
                }
                Process process = builder.start();
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.descendants().forEach(ProcessHandle::destroyForcibly);
                    process.destroyForcibly();
                    throw new IllegalStateException(String.join(" ", command) + " did not end within " + timeout);
                }
                return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The host port a container's port is published on (127.0.0.1). */
    static int hostPort(String container, int port) {
        String mapping = podman("port", container, port + "/tcp");
        return Integer.parseInt(mapping.lines().findFirst().orElseThrow().replaceFirst(".*:", "").strip());
    }

    /** {@code podman inspect --format FORMAT NAME}. */
    static String inspect(String name, String format) {
        return podman("inspect", "--format", format, name);
    }

    /** Removes a container now, if it exists. */
    static void remove(String container) {
        tryPodman("rm", "-f", "-t", "0", container);
    }
}
