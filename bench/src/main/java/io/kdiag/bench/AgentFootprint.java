package io.kdiag.bench;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.locks.LockSupport;

import io.kdiag.common.kafka.KafkaNames;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.schemas.AvroSerde;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sections 5 and 6: the agent as a JVM of its own. Footprint: RSS and CPU idle (once start-up has settled), under load
 * (its first seconds, then the next as many) and idle again after it, per set of JVM flags.
 * Scale: one agent's consumed records and CPU while abnormals for random nodes of a 50-, 500- and 5,000-node cluster
 * arrive at a fixed cluster rate; it reads only its partition, so its cost follows the records there, not the size.
 */
final class AgentFootprint {
    /** The node agent's JVM flags, as JDK_JAVA_OPTIONS of deploy/base/node-agent.yml sets them. */
    static final List<String> DAEMONSET_FLAGS = List.of("-Xms8m", "-Xmx128m", "-Xmn4m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-XX:CICompilerCount=1", "-XX:ReservedCodeCacheSize=32m");

    /** JVM flag sets tried, in order; the last is the DaemonSet's. */
    static final Map<String, List<String>> VARIANTS = new java.util.LinkedHashMap<>();

    static {
        VARIANTS.put("default (no flags)", List.of());
        VARIANTS.put("-Xmx64m -XX:+UseSerialGC", List.of("-Xmx64m", "-XX:+UseSerialGC"));
        VARIANTS.put("+ -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=32m",
                List.of("-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:ReservedCodeCacheSize=32m"));
        VARIANTS.put("DaemonSet: " + String.join(" ", DAEMONSET_FLAGS), DAEMONSET_FLAGS);
    }

    /** Time after the agent is ready before idle is measured: start-up compilation and class loading end well before. */
    private static final long SETTLE_MILLIS = 20_000;
    private static final long MIB = 1024 * 1024;

    private final Map<String, Object> kafka;
    private final String bootstrap;
    private final Path dir;
    private final Report report;
    private final BenchTrust trust;
    private final AvroSerde<AbnormalRequest> serde = AvroSerde.of(AbnormalRequest.class);

    AgentFootprint(Map<String, Object> kafka, Path dir, Report report) {
        this.kafka = kafka;
        this.bootstrap = String.valueOf(kafka.get("bootstrap.servers"));
        this.dir = dir;
        this.report = report;
        this.trust = BenchTrust.in(dir);
    }

    /** Section 5: each variant idle for {@code idleSeconds}, then under {@code loadRate} abnormals/s for twice {@code loadSeconds}. */
    void footprint(int idleSeconds, int loadSeconds, int loadRate) throws Exception {
        Topics topics = new Topics("foot.");
        TopicAdmin.ensureTopics(kafka, topics, Pipeline.PARTITIONS, (short) 1);
        Leaders.await(kafka, List.of(topics.abnormals().name(), topics.diagnosisEvents().name()));
        int v = 0;
        for (Map.Entry<String, List<String>> variant : VARIANTS.entrySet()) {
            String node = "foot-" + v++;
            Path agentDir = dir.resolve(node);
            try (ChildJvm agent = AgentProcess.start(variant.getValue(), node, bootstrap, "foot.", agentDir, agentDir.resolve("agent.log"), trust)) {
                Thread.sleep(SETTLE_MILLIS);
                long[] maxRss = {0};
                ProcStats before = agent.stats();
                long start = System.nanoTime();
                sample(agent, idleSeconds * 1000L, maxRss, null);
                ProcStats idle = agent.stats();
                double idleCpu = ProcStats.coreShare(before, idle, System.nanoTime() - start);
                report.add("5 agent", "idle " + idleSeconds + " s: " + variant.getKey(),
                        String.format("RSS %s (max %s), CPU %.2f%% of a core", Report.mib(idle.rssBytes()), Report.mib(maxRss[0]), idleCpu * 100),
                        "<= 96 MiB, < 1%", idle.rssBytes() <= 96 * MIB && maxRss[0] <= 96 * MIB && idleCpu < 0.01);
                maxRss[0] = 0;
                long loadStart = System.nanoTime();
                try (KafkaProducer<byte[], byte[]> producer = producer()) {
                    int[] sent = {0};
                    long period = 1_000_000_000L / loadRate;
                    Runnable load = () -> {
                        long due = loadStart + sent[0] * period;
                        if (System.nanoTime() >= due) {
                            String uid = "foot-" + node + "-" + sent[0]++;
                            producer.send(trust.signed(topics.abnormals().name(), node,
                                    serde.encode(SampleRecords.request(uid, node, SampleRecords.Work.NOOP))));
                        }
                    };
                    // the first window includes the first abnormal's class loading and the compilation of the hot path
                    sample(agent, loadSeconds * 1000L, maxRss, load);
                    ProcStats warm = agent.stats();
                    long steadyStart = System.nanoTime();
                    report.add("5 agent", "load " + loadRate + " no-op abnormals/s, first " + loadSeconds + " s: " + variant.getKey(),
                            String.format("RSS %s (max %s), CPU %.1f%% of a core", Report.mib(warm.rssBytes()), Report.mib(maxRss[0]),
                                    ProcStats.coreShare(idle, warm, steadyStart - loadStart) * 100),
                            "", null);
                    maxRss[0] = 0;
                    sample(agent, loadSeconds * 1000L, maxRss, load);
                    ProcStats loaded = agent.stats();
                    double loadCpu = ProcStats.coreShare(warm, loaded, System.nanoTime() - steadyStart);
                    report.add("5 agent", "load " + loadRate + " no-op abnormals/s, next " + loadSeconds + " s: " + variant.getKey(),
                            String.format("RSS %s (max %s), CPU %.1f%% of a core = %.2f ms per abnormal", Report.mib(loaded.rssBytes()),
                                    Report.mib(maxRss[0]), loadCpu * 100, loadCpu * 1000 / loadRate),
                            "", null);
                }
                // what stays once abnormals have run: the classes and compiled code of the hot path, the heap it grew to
                Thread.sleep(5000);
                maxRss[0] = 0;
                ProcStats rested = agent.stats();
                long restStart = System.nanoTime();
                sample(agent, loadSeconds * 1000L, maxRss, null);
                ProcStats after = agent.stats();
                report.add("5 agent", "idle " + loadSeconds + " s after the load: " + variant.getKey(),
                        String.format("RSS %s (max %s), CPU %.2f%% of a core", Report.mib(after.rssBytes()), Report.mib(maxRss[0]),
                                ProcStats.coreShare(rested, after, System.nanoTime() - restStart) * 100),
                        "", null);
            }
        }
    }

    /** Samples RSS every 100 ms for {@code millis}, running {@code work} (if any) in between. */
    private static void sample(ChildJvm agent, long millis, long[] maxRss, Runnable work) throws Exception {
        long end = System.nanoTime() + millis * 1_000_000;
        long nextSample = 0;
        while (System.nanoTime() < end) {
            if (System.nanoTime() >= nextSample) {
                maxRss[0] = Math.max(maxRss[0], agent.stats().rssBytes());
                nextSample = System.nanoTime() + 100_000_000L;
            }
            if (work != null) {
                work.run();
                LockSupport.parkNanos(1_000_000);
            } else {
                Thread.sleep(100);
            }
        }
    }

    /** Section 6: one agent (with {@code flags}) under abnormals for random nodes of clusters of these sizes. */
    void scale(List<String> flags, int[] clusterSizes, int clusterRate, int seconds) throws Exception {
        Topics topics = new Topics("sim.");
        TopicAdmin.ensureTopics(kafka, topics, Pipeline.PARTITIONS, (short) 1);
        Leaders.await(kafka, List.of(topics.abnormals().name(), topics.diagnosisEvents().name()));
        String node = "node-00000";
        int partition = Topics.partitionFor(node, Pipeline.PARTITIONS);
        TopicPartition tp = new TopicPartition(topics.abnormals().name(), partition);
        Random random = new Random(5000);
        Path agentDir = dir.resolve("sim-" + node);
        try (ChildJvm agent = AgentProcess.start(flags, node, bootstrap, "sim.", agentDir, agentDir.resolve("agent.log"), trust);
             KafkaProducer<byte[], byte[]> producer = producer();
             Admin admin = Admin.create(kafka)) {
            Thread.sleep(5000);
            long committedBefore = committed(admin, new KafkaNames(topics.prefix()).agentGroup(node), tp);
            for (int size : clusterSizes) {
                long inPartition = 0;
                long own = 0;
                int total = clusterRate * seconds;
                long period = 1_000_000_000L / clusterRate;
                ProcStats before = agent.stats();
                long start = System.nanoTime();
                for (int i = 0; i < total; i++) {
                    long wait = start + i * period - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    }
                    String target = String.format("node-%05d", random.nextInt(size));
                    if (Topics.partitionFor(target, Pipeline.PARTITIONS) == partition) {
                        inPartition++;
                        own += target.equals(node) ? 1 : 0;
                    }
                    producer.send(trust.signed(topics.abnormals().name(), target,
                            serde.encode(SampleRecords.request("sim-" + size + "-" + i, target, SampleRecords.Work.NOOP))));
                }
                producer.flush();
                long deadline = System.nanoTime() + 60_000_000_000L;
                long committed = committed(admin, new KafkaNames(topics.prefix()).agentGroup(node), tp);
                while (committed - committedBefore < inPartition && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                    committed = committed(admin, new KafkaNames(topics.prefix()).agentGroup(node), tp);
                }
                long nanos = System.nanoTime() - start;
                ProcStats after = agent.stats();
                long consumed = committed - committedBefore;
                committedBefore = committed;
                double cpuSeconds = (after.cpuTicks() - before.cpuTicks()) / (double) ProcStats.TICKS_PER_SECOND;
                report.add("6 scale", String.format("%,d-node cluster, %d abnormals/s for %d s", size, clusterRate, seconds),
                        String.format("consumed %d (own %d) = %.1f rec/s; CPU %.1f%% of a core, %.2f ms/record; RSS %s",
                                consumed, own, consumed / (nanos / 1e9), cpuSeconds / (nanos / 1e9) * 100,
                                consumed == 0 ? 0 : cpuSeconds * 1000 / consumed, Report.mib(after.rssBytes())),
                        String.format("partition share %d of %d (1/%d expected)", inPartition, total, Pipeline.PARTITIONS), null);
            }
        }
    }

    private static long committed(Admin admin, String group, TopicPartition tp) throws Exception {
        OffsetAndMetadata offset = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().get(tp);
        return offset == null ? 0 : offset.offset();
    }

    private KafkaProducer<byte[], byte[]> producer() {
        return new KafkaProducer<>(new HashMap<>(kafka), new ByteArraySerializer(), new ByteArraySerializer());
    }
}
