package io.kdiag.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.kdiag.api.v1.Abnormal;
import io.kdiag.schemas.avro.AbnormalStatus;
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

    @ParentCommand
    Kdiag kdiag;

    @Option(names = "--examples", defaultValue = "examples", description = "Folder of example manifests (default: ${DEFAULT-VALUE}).")
    Path examples;

    @Option(names = "--timeout", defaultValue = "60", description = "Seconds each example may take (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Option(names = "--full", description = "Print complete statuses instead of cutting long context lists.")
    boolean full;

    @Override
    public Integer call() throws Exception {
        long started = System.nanoTime();
        List<Path> files = exampleFiles();
        Path data = Files.createDirectories(kdiag.home()).resolve("demo-" + ProcessHandle.current().pid());
        Process runaway = new ProcessBuilder("bash", "-c", "exec -a " + RUNAWAY_PROCESS_NAME + " sleep 600")
                .redirectErrorStream(true).start();
        List<String[]> summary = new ArrayList<>();
        boolean allAsExpected = true;
        try (LocalStack stack = LocalStack.start(data, 0, 0);
             PipelineClient client = new PipelineClient(Map.of("bootstrap.servers", stack.bootstrapServers()), stack.topics())) {
            System.out.printf("Embedded stack up: Kafka %s, node %s, %d examples (runaway stand-in pid %d)%n%n",
                    stack.bootstrapServers(), stack.nodeName(), files.size(), runaway.pid());
            List<Abnormal> abnormals = new ArrayList<>();
            List<String> uids = new ArrayList<>();
            for (Path file : files) {
                Abnormal abnormal = AbnormalFiles.read(file, stack.nodeName());
                abnormals.add(abnormal);
                uids.add(client.submit(abnormal));
            }
            for (int i = 0; i < files.size(); i++) {
                String expected = AbnormalFiles.expectedPhase(abnormals.get(i));
                Optional<AbnormalStatus> status = client.awaitTerminal(uids.get(i), Duration.ofSeconds(timeoutSeconds), s -> { });
                String phase = status.map(s -> s.getPhase().name()).orElse("<timed out>");
                boolean asExpected = phase.equals(expected);
                allAsExpected &= asExpected;
                summary.add(new String[] {files.get(i).getFileName().toString(), phase, expected, asExpected ? "ok" : "UNEXPECTED"});
                System.out.printf("# %s (expects %s)%n", files.get(i), expected);
                status.ifPresent(s -> System.out.println(full ? StatusPrinter.yaml(s) : StatusPrinter.condensedYaml(s, 3)));
            }
        } finally {
            boolean stopped = runaway.waitFor(5, TimeUnit.SECONDS);
            System.out.printf("Runaway stand-in pid %d: %s%n", runaway.pid(),
                    stopped ? "stopped by signal-recoverer (exit " + runaway.exitValue() + ")" : "still running; stopping it now");
            runaway.destroyForcibly();
            deleteRecursively(data);
        }
        summary.add(0, new String[] {"EXAMPLE", "PHASE", "EXPECTED", "RESULT"});
        System.out.println();
        System.out.print(StatusPrinter.columns(summary));
        System.out.printf("%nDemo finished in %.1f s: %s%n", (System.nanoTime() - started) / 1e9,
                allAsExpected ? "every example ended as expected" : "SOME EXAMPLES DID NOT END AS EXPECTED");
        return allAsExpected ? 0 : 1;
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
