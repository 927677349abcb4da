package io.kdiag.allinone;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import io.kdiag.api.v1.Abnormal;
import io.kdiag.cli.AbnormalFiles;
import io.kdiag.cli.KdiagCommand;
import io.kdiag.cli.StatusPrinter;
import io.kdiag.client.KdiagClient;
import io.kdiag.model.Phases;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.ProfilerResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code kdiag demo}: starts the embedded stack on fresh data, runs every example Abnormal through it, prints each final
 * status, and fails unless each ended in the phase its example expects.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the example Abnormals through a fresh embedded stack and print their final statuses. "
                + "Exits non-zero if any example did not end in the phase it expects (annotation kdiag.io/expected-phase).")
final class DemoCommand implements Callable<Integer> {
    /** The name the demo's stand-in for a runaway process runs under; examples/02 finds and stops it. */
    static final String RUNAWAY_PROCESS_NAME = "kdiag-demo-runaway";
    private static final String DEMO_PID = "kdiag.io/demo-pid";
    private static final String BUSY_JVM = "busy-jvm";
    /** The link of a profile's page to its raw file: an evidence path relative to the page's. */
    private static final Pattern RAW_LINK = Pattern.compile("href=\"([0-9a-f]{64}\\?[^\"]+)\"");
    /** The application log examples/log/app-log-monitor.json names. */
    private static final String APP_LOG = "/tmp/kdiag-example/app.log";

    @ParentCommand
    KdiagCommand kdiag;

    @Option(names = "--examples", defaultValue = "examples", description = "Folder of example manifests (default: ${DEFAULT-VALUE}).")
    Path examples;

    @Option(names = "--policy", paramLabel = "FILE",
            description = "The agent's policy file (default: <examples>/policy/demo-policy.yaml, which allows what the examples ask for).")
    Path policy;

    @Option(names = "--timeout", defaultValue = "60", description = "Seconds each example may take (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Option(names = "--full", description = "Print complete statuses instead of cutting long context lists.")
    boolean full;

    @Override
    public Integer call() throws Exception {
        long started = System.nanoTime();
        List<Path> files = exampleFiles();
        Path home = Files.createDirectories(kdiag.home());
        Path data = home.resolve("demo-" + ProcessHandle.current().pid());
        Process runaway = new ProcessBuilder("bash", "-c", "exec -a " + RUNAWAY_PROCESS_NAME + " sleep 600")
                .redirectErrorStream(true).start();
        List<String[]> summary = new ArrayList<>();
        boolean allAsExpected = true;
        ExecutorService waiting = Executors.newCachedThreadPool(r -> {
            Thread thread = new Thread(r, "kdiag-demo-wait");
            thread.setDaemon(true);
            return thread;
        });
        // fabric8's YAML parsing takes a second or two to warm up: done while the stack starts, it costs no time
        CompletableFuture<List<Abnormal>> examplesRead = CompletableFuture.supplyAsync(
                () -> read(files, LocalStack.configuredNodeName()), waiting);
        Process busyJvm = null;
        Path appLog = Path.of(APP_LOG);
        Path demoPolicy = policy != null ? policy : examples.resolve("policy").resolve("demo-policy.yaml");
        try (LocalStack stack = LocalStack.start(data, LocalStack.Ports.ANY, LocalStack.LOOPBACK, demoPolicy, sourceSettings());
             KdiagClient client = KdiagClient.builder().bootstrapServers(stack.bootstrapServers())
                     .topicPrefix(stack.topics().prefix()).build()) {
            busyJvm = startBusyJvm();
            System.out.printf("Embedded stack up: Kafka %s, node %s, %d examples (runaway stand-in pid %d, busy JVM pid %d)%n%n",
                    stack.bootstrapServers(), stack.nodeName(), files.size(), runaway.pid(), busyJvm.pid());
            List<Abnormal> abnormals = result(examplesRead);
            List<Future<Optional<AbnormalStatus>>> finalStatuses = new ArrayList<>();
            for (Abnormal abnormal : abnormals) {
                targetBusyJvm(abnormal, busyJvm.pid());
                String uid = client.publish(abnormal);
                // the examples run one after another on the agent; waiting for all at once lets a status be read
                // while the next example still runs
                finalStatuses.add(waiting.submit(() -> client.awaitFinalStatus(uid, Duration.ofSeconds(timeoutSeconds))));
            }
            for (int i = 0; i < files.size(); i++) {
                String expected = AbnormalFiles.expectedPhase(abnormals.get(i));
                Optional<AbnormalStatus> status = result(finalStatuses.get(i));
                String phase = status.map(s -> s.getPhase().name()).orElse("<timed out>");
                boolean asExpected = phase.equals(expected);
                System.out.printf("# %s (expects %s)%n", files.get(i), expected);
                status.ifPresent(s -> System.out.println(full ? StatusPrinter.yaml(s) : StatusPrinter.condensedYaml(s, 3)));
                if (asExpected && status.isPresent() && !status.get().getProfilers().isEmpty()) {
                    asExpected = showProfile(stack.statusWriterUrl(), status.get(), home);
                }
                allAsExpected &= asExpected;
                summary.add(new String[] {files.get(i).getFileName().toString(), phase, expected, asExpected ? "ok" : "UNEXPECTED"});
            }
            // the other ways in: an Alertmanager webhook matched by a rule file, and a line in a log the log source follows
            summary.add(throughSource(client, "alert NodeHighLoad (webhook)", "prometheus-alert.nodehighload.",
                    () -> postAlert(stack.bridgeHttpPort(), stack.nodeName())));
            summary.add(throughSource(client, "log line OutOfMemory (" + appLog + ")", "log.outofmemory.",
                    () -> Files.writeString(Files.createDirectories(appLog.getParent()).resolve(appLog.getFileName()),
                            "Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space\n",
                            StandardOpenOption.CREATE, StandardOpenOption.APPEND)));
            allAsExpected &= summary.stream().allMatch(row -> "ok".equals(row[3]));
        } finally {
            boolean stopped = runaway.waitFor(5, TimeUnit.SECONDS);
            System.out.printf("Runaway stand-in pid %d: %s%n", runaway.pid(),
                    stopped ? "stopped by signal-recoverer (exit " + runaway.exitValue() + ")" : "still running; stopping it now");
            runaway.destroyForcibly();
            if (busyJvm != null) {
                busyJvm.destroyForcibly();
            }
            waiting.shutdownNow();
            deleteRecursively(data);
        }
        summary.add(0, new String[] {"EXAMPLE", "PHASE", "EXPECTED", "RESULT"});
        System.out.println();
        System.out.print(StatusPrinter.columns(summary));
        System.out.printf("%nDemo finished in %.1f s: %s%n", (System.nanoTime() - started) / 1e9,
                allAsExpected ? "every example ended as expected" : "SOME EXAMPLES DID NOT END AS EXPECTED");
        return allAsExpected ? 0 : 1;
    }

    /** The demo's rule files and log monitor, from the examples folder, as the settings {@code kdiag up} options give. */
    private Map<String, String> sourceSettings() {
        return Map.of("KDIAG_RULES", examples.resolve("rules").toAbsolutePath().toString(),
                LocalStack.LOG_MONITORS, examples.resolve("log/app-log-monitor.json").toAbsolutePath().toString(),
                "KDIAG_LOG_TEMPLATES", examples.resolve("log/app-log-templates.json").toAbsolutePath().toString());
    }

    /** A step that makes a source start an abnormal. */
    private interface Trigger {
        void fire() throws Exception;
    }

    /**
     * Fires {@code trigger}, waits for the abnormal whose name starts with {@code namePrefix} to end, prints its status,
     * and returns its summary row: it is expected to succeed.
     */
    private String[] throughSource(KdiagClient client, String what, String namePrefix, Trigger trigger) throws Exception {
        trigger.fire();
        Optional<AbnormalStatus> status = client.awaitStatus(
                s -> s.getName().startsWith(namePrefix) && Phases.isFinal(s.getPhase()), Duration.ofSeconds(timeoutSeconds));
        String phase = status.map(s -> s.getPhase().name()).orElse("<timed out>");
        System.out.printf("# %s (expects Succeeded)%n", what);
        status.ifPresent(s -> System.out.println(full ? StatusPrinter.yaml(s) : StatusPrinter.condensedYaml(s, 3)));
        return new String[] {what, phase, "Succeeded", "Succeeded".equals(phase) ? "ok" : "UNEXPECTED"};
    }

    /** Posts a firing NodeHighLoad alert for {@code node}, as Alertmanager's webhook does. */
    private static void postAlert(int bridgePort, String node) throws Exception {
        String body = """
                {"version": "4", "status": "firing", "receiver": "kube-diagnoser",
                 "alerts": [{"status": "firing", "labels": {"alertname": "NodeHighLoad", "node": "%s", "severity": "warning"},
                             "annotations": {"summary": "load above 4 for 10 minutes"}, "startsAt": "%s"}]}"""
                .formatted(node, Instant.now());
        HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + bridgePort + "/webhook")).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        System.out.printf("POST /webhook -> %d %s%n", answer.statusCode(), answer.body());
    }

    private static List<Abnormal> read(List<Path> files, String node) {
        List<Abnormal> abnormals = new ArrayList<>();
        for (Path file : files) {
            try {
                abnormals.add(AbnormalFiles.read(file, node));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
            }
        }
        return abnormals;
    }

    /** What a wait returned, or what it threw. */
    private static <T> T result(Future<T> wait) throws Exception {
        try {
            return wait.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof CompletionException wrapped ? wrapped.getCause() : e.getCause();
            throw cause instanceof Exception failure ? failure : e;
        }
    }

    /**
     * A JVM spinning in {@link BusyJvm#computeDemoWorkload}, for examples/05 to profile. It runs at the lowest priority
     * ({@code nice}, where there is one): it still spins whenever a core is free, as while it is profiled, but on a small
     * machine it does not take a core from the examples before it.
     */
    private static Process startBusyJvm() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // a JVM that only spins needs neither the optimizing compiler nor a parallel collector, and starts faster without
        List<String> command = List.of(java, "-Xmx32m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), BusyJvm.class.getName());
        try {
            // nice execs the command, so the pid stays the JVM's
            return busyJvm(Stream.concat(Stream.of("nice", "-n", "19"), command.stream()).toList());
        } catch (IOException e) {
            return busyJvm(command);
        }
    }

    private static Process busyJvm(List<String> command) throws IOException {
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** Points the Java profilers of an example marked {@code kdiag.io/demo-pid: busy-jvm} at the busy JVM. */
    private static void targetBusyJvm(Abnormal abnormal, long pid) {
        var annotations = abnormal.getMetadata().getAnnotations();
        if (annotations == null || !BUSY_JVM.equals(annotations.get(DEMO_PID)) || abnormal.getSpec().profilers == null) {
            return;
        }
        abnormal.getSpec().profilers.stream().filter(p -> p.java != null).forEach(p -> p.java.pid = (int) pid);
    }

    /**
     * Fetches the flame graph from the status writer, where the profile's endpoint points, and the raw profile its link
     * names: both are evidence on Kafka, kept as long as the history, not files of the node.
     *
     * @return whether both were served as they should be
     */
    private static boolean showProfile(String statusWriterUrl, AbnormalStatus status, Path home) throws Exception {
        ProfilerResult profile = status.getProfilers().get(0);
        if (profile.getEndpoint() == null) {
            System.out.printf("Profiler %s failed: %s%n%n", profile.getName(), profile.getError());
            return false;
        }
        HttpClient http = HttpClient.newHttpClient();
        URI pageUrl = URI.create(statusWriterUrl + profile.getEndpoint());
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(pageUrl).build(), HttpResponse.BodyHandlers.ofString());
        Path saved = home.resolve("demo-flamegraph.html");
        Files.writeString(saved, page.body());
        boolean hasBusyMethod = page.body().contains("computeDemoWorkload");
        System.out.printf("GET %s -> %d %s, %d bytes of flame graph (saved to %s)%s%n", pageUrl, page.statusCode(),
                page.headers().firstValue("Content-Type").orElse(""), page.body().length(), saved,
                hasBusyMethod ? "; BusyJvm.computeDemoWorkload is in it" : "");
        Matcher link = RAW_LINK.matcher(page.body());
        if (!link.find()) {
            System.out.printf("The flame graph links no raw profile%n%n");
            return false;
        }
        URI rawUrl = pageUrl.resolve(link.group(1).replace("&amp;", "&"));
        HttpResponse<byte[]> raw = http.send(HttpRequest.newBuilder(rawUrl).build(), HttpResponse.BodyHandlers.ofByteArray());
        System.out.printf("GET %s -> %d %s, %d bytes of raw profile%n%n", rawUrl, raw.statusCode(),
                raw.headers().firstValue("Content-Type").orElse(""), raw.body().length);
        return page.statusCode() == 200 && hasBusyMethod && raw.statusCode() == 200 && raw.body().length > 0;
    }

    private List<Path> exampleFiles() throws IOException {
        if (!Files.isDirectory(examples)) {
            throw new IllegalArgumentException("no examples folder at " + examples.toAbsolutePath());
        }
        try (Stream<Path> list = Files.list(examples)) {
            return list.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
