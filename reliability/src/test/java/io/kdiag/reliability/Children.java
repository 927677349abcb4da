package io.kdiag.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Components run as their own JVMs through their {@code Main}, on this test's class path, each process's output
 * appended to a log file. {@link #kill} is SIGKILL: no shutdown hook, no flush, no goodbye.
 */
final class Children implements AutoCloseable {
    private final Path dir;
    private final List<Process> processes = new ArrayList<>();

    Children(Path dir) {
        this.dir = dir;
    }

    /**
     * Starts {@code mainClass} with these environment variables and arguments; its stdout and stderr go to
     * {@link #log(String)}.
     */
    Process start(Class<?> mainClass, String name, Map<String, String> env, String... args) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), mainClass.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log(name).toFile()));
        builder.environment().putAll(env);
        try {
            Process process = builder.start();
            processes.add(process);
            return process;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The file a child's output goes to. */
    Path log(String name) {
        return dir.resolve(name + ".log");
    }

    /** Everything the children of that name printed. */
    String output(String name) {
        try {
            return Files.exists(log(name)) ? Files.readString(log(name)) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** SIGKILL, and wait until the process is gone. */
    static void kill(Process process) throws InterruptedException {
        process.destroyForcibly();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("killed process ended").isTrue();
    }

    @Override
    public void close() {
        processes.forEach(Process::destroyForcibly);
    }
}
