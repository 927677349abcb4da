package io.kdiag.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A main class of the bench's class path in a JVM of its own, so that its memory and CPU are its own: started with the
 * given JVM flags and {@code KDIAG_*} settings only (neither the bench's environment settings nor its JVM options), its
 * output in a log file. To profile the children, {@code BENCH_CHILD_JVM_FLAGS} adds flags to each, {@code %n} in them
 * replaced by the child's name, e.g.
 * {@code BENCH_CHILD_JVM_FLAGS='-XX:StartFlightRecording=settings=profile,filename=/tmp/%n.jfr'}.
 */
final class ChildJvm implements AutoCloseable {
    /** The JVMs not closed yet: ended with the bench's JVM, whatever ends it. */
    private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(Process::destroy), "bench-child-jvms"));
    }

    private final String name;
    private final Process process;
    private final Path log;

    private ChildJvm(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /** Starts {@code mainClass} with {@code args}; its standard output and error go to {@code log}. */
    static ChildJvm start(String name, List<String> jvmFlags, String mainClass, List<String> args, Map<String, String> env, Path log)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags);
        command.addAll(profilingFlags(name));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(args);
        Files.createDirectories(log.getParent());
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().keySet()
                .removeIf(k -> k.startsWith("KDIAG_") || k.equals("JAVA_TOOL_OPTIONS") || k.equals("JDK_JAVA_OPTIONS"));
        builder.environment().putAll(env);
        Process process = builder.start();
        RUNNING.add(process);
        return new ChildJvm(name, process, log);
    }

    private static List<String> profilingFlags(String name) {
        String flags = System.getenv("BENCH_CHILD_JVM_FLAGS");
        if (flags == null || flags.isBlank()) {
            return List.of();
        }
        String file = name.replaceAll("[^A-Za-z0-9.-]+", "-");
        return Arrays.stream(flags.trim().split("\\s+")).map(flag -> flag.replace("%n", file)).toList();
    }

    /** Waits until {@code GET http://127.0.0.1:port/readyz} answers 200; closes the JVM and fails when it does not in time. */
    void awaitReady(int port, Duration timeout) throws InterruptedException {
        if (!awaitReady(port, timeout, process::isAlive)) {
            close();
            throw new IllegalStateException(name + " did not become ready" + exitText() + "; see " + log);
        }
    }

    /** Whether {@code GET http://127.0.0.1:port/readyz} answered 200 within {@code timeout}, polled while {@code alive}. */
    static boolean awaitReady(int port, Duration timeout, BooleanSupplier alive) throws InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest readyz = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz")).timeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline && alive.getAsBoolean()) {
            try {
                if (http.send(readyz, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return true;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        return false;
    }

    /** Waits until a line of the log starts with {@code prefix}; closes the JVM and fails when none does in time. */
    void awaitLogLine(String prefix, Duration timeout) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline && process.isAlive()) {
            if (Files.readAllLines(log).stream().anyMatch(line -> line.startsWith(prefix))) {
                return;
            }
            Thread.sleep(200);
        }
        close();
        throw new IllegalStateException(name + " did not log '" + prefix + "' in time" + exitText() + "; see " + log);
    }

    String name() {
        return name;
    }

    long pid() {
        return process.pid();
    }

    Path log() {
        return log;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    ProcStats stats() throws IOException {
        return ProcStats.of(process.pid());
    }

    /** How the JVM ended, e.g. " (exited with 1)"; empty while it runs. */
    String exitText() {
        return process.isAlive() ? "" : " (exited with " + process.exitValue() + ")";
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Ends the JVM: end of its standard input and SIGTERM, then SIGKILL if it has not exited within 20 s. */
    @Override
    public void close() throws InterruptedException {
        try {
            process.getOutputStream().close();
        } catch (IOException e) {
            // already closed: SIGTERM follows anyway
        }
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        RUNNING.remove(process);
    }
}
