package io.kdiag.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.kdiag.embedded.EmbeddedKafka;
import io.kdiag.schemas.AvroTrust;

/**
 * The benchmark harness ({@code bench/run [--quick] [--jmh[=REGEX]] [--sections=1,2,...]}): one run on the embedded broker
 * measures Kafka's own limit, end-to-end latency, the fold against a plain Streams aggregate, rule matching, the
 * agent's footprint and scale, replay, the demo and a storm of abnormals over 500 nodes, and prints a table of results
 * next to what bounds them (also written to {@code bench/target/bench-results.md}). {@code --jmh} runs the JMH benchmarks instead
 * (with {@code =REGEX}, those whose method name the regular expression finds); {@code --storm=ABNORMALSxNODES[xPARTITIONS]} changes the storm.
 */
public final class BenchMain {
    /** The sections, in the order they run. */
    static final Set<String> SECTIONS = Set.of("1", "2", "3", "4", "5", "6", "7", "8", "9");

    /**
     * Section 9's storm unless --storm=ABNORMALSxNODES[xPARTITIONS] says otherwise, the same with --quick: the target is
     * stated for it; the node-keyed topics have the installation's default partitions unless said.
     */
    private static final int STORM_ABNORMALS = 20_000;
    private static final int STORM_NODES = 500;
    private static final Duration STORM_DEADLINE = Duration.ofSeconds(180);

    private BenchMain() {
    }

    /** Runs the harness; see the class comment for the arguments. */
    public static void main(String[] args) throws Exception {
        // before anything can build or read a record: section 4 alone builds requests before any serde exists
        AvroTrust.install();
        List<String> arguments = Arrays.asList(args);
        Optional<String> jmh = arguments.stream().filter(a -> a.equals("--jmh") || a.startsWith("--jmh=")).findFirst();
        if (jmh.isPresent()) {
            // --jmh=REGEX: only the benchmarks whose method name it finds, e.g. --jmh='sign|verify'
            String only = jmh.get().startsWith("--jmh=") ? "\\.(?:" + jmh.get().substring("--jmh=".length()) + ")" : "";
            org.openjdk.jmh.Main.main(new String[] {"-f", "1", "-wi", "3", "-w", "1s", "-i", "5", "-r", "1s", "-tu", "s",
                    JmhBenchmarks.class.getName() + only});
            return;
        }
        boolean quick = arguments.contains("--quick");
        Set<String> sections = arguments.stream().filter(a -> a.startsWith("--sections=")).findFirst()
                .map(a -> Set.of(a.substring("--sections=".length()).split(","))).orElse(SECTIONS);
        if (!SECTIONS.containsAll(sections)) {
            // before the broker starts: a typo would otherwise run nothing, slowly
            System.err.println("usage: bench/run [--quick] [--jmh[=REGEX]] [--sections=1,2,...] [--storm=ABNORMALSxNODES[xPARTITIONS]]: sections are "
                    + new TreeSet<>(SECTIONS));
            System.exit(2);
        }
        int[] storm = arguments.stream().filter(a -> a.startsWith("--storm=")).findFirst().map(BenchMain::storm)
                .orElse(new int[] {STORM_ABNORMALS, STORM_NODES, Pipeline.PARTITIONS});
        Path repo = Path.of(System.getProperty("kdiag.bench.repo", ".")).toAbsolutePath().normalize();
        Path work = Files.createTempDirectory("kdiag-bench-");
        PrintStream out = System.out;
        Report report = new Report(out);
        out.printf("kdiag bench %s: %d cores, %s, Java %s; work dir %s%n", quick ? "--quick" : "(full)",
                Runtime.getRuntime().availableProcessors(), cpuModel(), System.getProperty("java.version"), work);
        try (EmbeddedKafka broker = EmbeddedKafka.start(work.resolve("kafka"), 0, Map.of())) {
            Map<String, Object> kafka = new HashMap<>();
            kafka.put("bootstrap.servers", broker.bootstrapServers());
            if (sections.contains("1")) {
                KafkaLimits.run(kafka, report, quick ? 50_000 : 200_000);
            }
            if (sections.contains("2") || sections.contains("7")) {
                try (Pipeline pipeline = new Pipeline(kafka, work.resolve("pipeline"))) {
                    if (sections.contains("2")) {
                        latency(new Latency(pipeline, kafka, report), quick);
                    }
                }
            }
            if (sections.contains("3") || sections.contains("7")) {
                long events = FoldThroughput.produce(kafka, quick ? 3_000 : 10_000);
                if (sections.contains("3")) {
                    FoldThroughput.run(kafka, work, report, events);
                }
            }
            if (sections.contains("4")) {
                RuleMatching.run(report, quick ? 2 : 5, quick ? 3 : 10);
            }
            AgentFootprint agents = new AgentFootprint(kafka, work.resolve("agents"), report);
            if (sections.contains("5")) {
                agents.footprint(quick ? 20 : 60, quick ? 10 : 20, 20);
            }
            if (sections.contains("6")) {
                List<String> flags = AgentFootprint.VARIANTS.values().stream().reduce((a, b) -> b).orElseThrow();
                agents.scale(flags, new int[] {50, 500, 5000}, quick ? 100 : 200, quick ? 10 : 30);
            }
            if (sections.contains("7")) {
                Replay.run(kafka, "kdiag.diagnosis-events", report);
                Replay.run(kafka, FoldThroughput.FOLD_PREFIX + "diagnosis-events", report);
            }
            if (sections.contains("9")) {
                Storm stormSection = new Storm(kafka, work.resolve("storm"), repo.resolve("bench/target/storm"), report);
                stormSection.run(storm[0], storm[1], storm[2], STORM_DEADLINE);
            }
        }
        if (sections.contains("8")) {
            DemoTiming.run(repo, work.resolve("demo-home"), report);
        }
        Path results = repo.resolve("bench/target/bench-results.md");
        report.write(results);
        out.println();
        out.print(report.markdown());
        out.println("written to " + results);
        deleteQuietly(work);
    }

    /** Rates × processors over 24 nodes, and the node count at 500/s (12 and 48 nodes). */
    private static void latency(Latency latency, boolean quick) throws InterruptedException {
        int seconds = quick ? 5 : 15;
        // long enough for a saturated run to drain, so the next run does not start behind its backlog
        Duration drain = Duration.ofSeconds(quick ? 90 : 180);
        latency.run(SampleRecords.Work.NOOP, 500, 12, seconds, drain);
        for (int rate : new int[] {50, 200, 500}) {
            latency.run(SampleRecords.Work.NOOP, rate, 24, seconds, drain);
        }
        latency.run(SampleRecords.Work.NOOP, 500, 48, seconds, drain);
        for (int rate : new int[] {50, 200, 500}) {
            latency.run(SampleRecords.Work.PROCESS_COLLECTOR, rate, 48, seconds, drain);
        }
    }

    /**
     * {@code --storm=20000x500} or {@code --storm=20000x500x96}: abnormals, nodes and the partitions of the node-keyed
     * topics of section 9; exits with the usage when it is not that.
     */
    private static int[] storm(String argument) {
        Matcher m = Pattern.compile("--storm=([1-9][0-9]*)x([1-9][0-9]*)(?:x([1-9][0-9]*))?").matcher(argument);
        if (!m.matches()) {
            System.err.println("usage: --storm=ABNORMALSxNODES[xPARTITIONS], e.g. --storm=" + STORM_ABNORMALS + "x" + STORM_NODES
                    + "x" + Pipeline.PARTITIONS);
            System.exit(2);
        }
        return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                m.group(3) == null ? Pipeline.PARTITIONS : Integer.parseInt(m.group(3))};
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown CPU");
        } catch (IOException e) {
            return "unknown CPU";
        }
    }

    private static void deleteQuietly(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary folder left behind is harmless
        }
    }
}
