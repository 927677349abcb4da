package io.kdiag.profilers;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.kdiag.stageworkers.spi.ProfilerEngine.ProfilerException;

/**
 * Runs a tool the agent itself brings (jcmd, py-spy), never a command from the spec, with a deadline. Output and
 * errors go to a temporary file, so no reader thread is needed, and are capped when read back.
 */
final class Tool {
    /** Output beyond this is dropped; a class histogram of a large application is well under it. */
    static final int MAX_OUTPUT_BYTES = 8 * 1024 * 1024;

    private Tool() {
    }

    /**
     * What a tool printed and how it ended.
     *
     * @param exitCode its exit code
     * @param text its standard output and error, interleaved
     */
    record Output(int exitCode, String text) {
    }

    /**
     * Runs {@code command} and waits at most {@code timeout} for it.
     *
     * @throws ProfilerException if it cannot start or does not finish in time (it is then killed)
     */
    static Output run(List<String> command, Duration timeout) throws ProfilerException {
        String tool = Path.of(command.get(0)).getFileName().toString();
        Path output = null;
        Process process = null;
        try {
            output = Files.createTempFile("kdiag-" + tool + "-", ".out");
            process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            process.getOutputStream().close();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new ProfilerException(tool + " did not finish within " + timeout.toSeconds() + " s: " + command);
            }
            return new Output(process.exitValue(), read(output));
        } catch (IOException e) {
            throw new ProfilerException("cannot run " + tool + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProfilerException("interrupted while running " + tool, e);
        } finally {
            if (process != null && process.isAlive()) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
            if (output != null) {
                try {
                    Files.deleteIfExists(output);
                } catch (IOException e) {
                    // a temporary file left behind is harmless
                }
            }
        }
    }

    private static String read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return new String(in.readNBytes(MAX_OUTPUT_BYTES), StandardCharsets.UTF_8);
        }
    }

    /** The first executable called {@code name} in the directories of {@code searchPath} (the PATH syntax). */
    static Path onPath(String name, String searchPath) {
        if (searchPath == null) {
            return null;
        }
        for (String dir : searchPath.split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
