package io.kdiag.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.schemas.AvroSerde;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Phase;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Section 9: a storm. Every component runs in a JVM of its own, so that each one's peak memory is its own: the bridge
 * and the status writer (their real mains), one node agent with the DaemonSet's flags (the per-agent figure), and the
 * other nodes' agents in a few {@link AgentHost} JVMs. Once all are ready and have run one abnormal each, the abnormals
 * are published to the ingest topic at once, as fast as one producer can, spread over the nodes, and followed until
 * every one is final: the time to drain, the rate of finals, the latency of each from its publish, and each process's
 * peak RSS and CPU time during the storm (sampled from /proc).
 */
final class Storm {
    private static final String TOPIC_PREFIX = "storm.";
    private static final String UID_PREFIX = "storm-";
    private static final int AGENT_HOSTS = 4;
    private static final List<String> AGENT_HOST_FLAGS = List.of("-Xmx1g", "-XX:+UseSerialGC");
    // the image runs java -XX:MaxRAMPercentage=75 under deploy/base's memory limits: 512Mi (bridge), 1Gi (status writer)
    private static final List<String> BRIDGE_FLAGS = List.of("-Xmx384m");
    private static final List<String> STATUS_WRITER_FLAGS = List.of("-Xmx768m");
    private static final long MIB = 1024 * 1024;
    private static final double DRAIN_TARGET_SECONDS = 30;
    private static final double FINALS_TARGET = 2_000;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(300);
    private static final Duration WARM_UP_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration SAMPLE_PERIOD = Duration.ofMillis(150);
    /** How long the idle CPU of each component is measured before the storm. */
    private static final Duration IDLE = Duration.ofSeconds(5);

    private final Map<String, Object> kafka;
    private final Path dir;
    private final Path logs;
    private final Report report;
    private final BenchTrust trust;
    private final Topics topics = new Topics(TOPIC_PREFIX);
    private final AvroSerde<AbnormalRequest> requests = AvroSerde.of(AbnormalRequest.class);
    private final AvroSerde<AbnormalStatus> statuses = AvroSerde.of(AbnormalStatus.class);

    /** Components keep their state in {@code dir} and log to {@code logs}, which outlives the run for a look after it. */
    Storm(Map<String, Object> kafka, Path dir, Path logs, Report report) {
        this.kafka = kafka;
        this.dir = dir;
        this.logs = logs;
        this.report = report;
        this.trust = BenchTrust.in(dir);
    }

    /**
     * Publishes {@code abnormals} over {@code nodes} nodes at once, the node-keyed topics with {@code partitions}, and
     * follows them for {@code deadline} at most.
     */
    void run(int abnormals, int nodes, int partitions, Duration deadline) throws Exception {
        TopicAdmin.ensureTopics(kafka, topics, partitions, (short) 1);
        Leaders.await(kafka, List.of(topics.abnormalRequests().name(), topics.abnormals().name(), topics.diagnosisEvents().name(),
                topics.abnormalStatus().name()));
        List<ChildJvm> children = new CopyOnWriteArrayList<>();
        // each component's limit of memory, where deploy/base sets one
        Map<ProcessSampler.Watched, Long> limits = new HashMap<>();
        try (ProcessSampler sampler = new ProcessSampler(SAMPLE_PERIOD); Follower follower = new Follower()) {
            sampler.watch("broker + bench (load generator, follower)", ProcessHandle.current().pid());
            List<String> warmUpNodes = start(nodes, children, sampler, limits);
            follower.start();
            warmUp(follower, warmUpNodes, children);
            storm(follower, abnormals, nodes, partitions, deadline, children, sampler, limits);
        } finally {
            closeAll(children);
        }
    }

    /** Starts every component and waits until all are ready; returns one node of each agent JVM. */
    private List<String> start(int nodes, List<ChildJvm> children, ProcessSampler sampler, Map<ProcessSampler.Watched, Long> limits)
            throws Exception {
        String bootstrap = String.valueOf(kafka.get("bootstrap.servers"));
        Map<String, String> common = Map.of("KDIAG_KAFKA_BOOTSTRAP_SERVERS", bootstrap, "KDIAG_TOPIC_PREFIX", TOPIC_PREFIX,
                "KDIAG_KUBERNETES", "off", "KDIAG_METRICS_PORT", "0");
        int writerPort = ChildJvm.freePort();
        ChildJvm writer = component("status-writer", STATUS_WRITER_FLAGS, "io.kdiag.statuswriter.Main", common, writerPort);
        children.add(writer);
        limits.put(sampler.watch("status writer (" + String.join(" ", STATUS_WRITER_FLAGS) + ")", writer.pid()), 1024 * MIB);
        int bridgePort = ChildJvm.freePort();
        Map<String, String> bridgeEnv = new HashMap<>(common);
        bridgeEnv.putAll(trust.bridgeEnv());
        ChildJvm bridge = component("bridge", BRIDGE_FLAGS, "io.kdiag.sourcebridge.Main", bridgeEnv, bridgePort);
        children.add(bridge);
        limits.put(sampler.watch("bridge (" + String.join(" ", BRIDGE_FLAGS) + ")", bridge.pid()), 512 * MIB);
        writer.awaitReady(writerPort, START_TIMEOUT);
        bridge.awaitReady(bridgePort, START_TIMEOUT);
        ChildJvm agent = AgentProcess.start(AgentFootprint.DAEMONSET_FLAGS, Pipeline.node(0), bootstrap, TOPIC_PREFIX,
                dir.resolve("agent-" + Pipeline.node(0)), logs.resolve("agent-" + Pipeline.node(0) + ".log"), trust);
        children.add(agent);
        limits.put(sampler.watch("node agent of " + Pipeline.node(0) + " (one JVM, the DaemonSet's flags)", agent.pid()), 1024 * MIB);
        List<String> warmUpNodes = new ArrayList<>(List.of(Pipeline.node(0)));
        Map<String, String> hostEnv = new HashMap<>(common);
        hostEnv.putAll(trust.agentEnv());
        int h = 0;
        // one at a time: hundreds of agents starting at once on two cores time out fetching metadata
        for (List<String> share : AgentHost.shares(IntStream.range(1, nodes).mapToObj(Pipeline::node).toList(), AGENT_HOSTS)) {
            if (share.isEmpty()) {
                continue;
            }
            h++;
            List<String> args = new ArrayList<>(List.of(dir.resolve("host-" + h).toString()));
            args.addAll(share);
            ChildJvm host = ChildJvm.start("agent host " + h, AGENT_HOST_FLAGS, AgentHost.class.getName(), args, hostEnv,
                    logs.resolve("agent-host-" + h + ".log"));
            children.add(host);
            sampler.watch(String.format("agent host %d: %d agents in one JVM (%s)", h, share.size(), String.join(" ", AGENT_HOST_FLAGS)),
                    host.pid());
            host.awaitLogLine(AgentHost.READY, START_TIMEOUT);
            warmUpNodes.add(share.get(0));
        }
        return warmUpNodes;
    }

    /** A component's real main with {@code env}, its state in {@code dir/name}, its HTTP port (and probes) on {@code port}. */
    private ChildJvm component(String name, List<String> flags, String mainClass, Map<String, String> env, int port) throws Exception {
        Map<String, String> settings = new HashMap<>(env);
        settings.put("KDIAG_STATE_DIR", dir.resolve(name).toString());
        settings.put("KDIAG_HTTP_PORT", String.valueOf(port));
        return ChildJvm.start("the " + name, flags, mainClass, List.of(), settings, logs.resolve(name + ".log"));
    }

    /** One abnormal for each agent JVM, to its end: the whole chain runs before the storm is timed. */
    private void warmUp(Follower follower, List<String> nodes, List<ChildJvm> children) throws Exception {
        try (KafkaProducer<String, byte[]> producer = producer()) {
            for (String node : nodes) {
                String uid = "warm-up-" + node;
                follower.pending.put(uid, System.nanoTime());
                producer.send(new ProducerRecord<>(topics.abnormalRequests().name(), node,
                        requests.encode(SampleRecords.request(uid, node, SampleRecords.Work.NOOP))));
            }
        }
        long deadline = System.nanoTime() + WARM_UP_TIMEOUT.toNanos();
        while (!follower.pending.isEmpty() && System.nanoTime() < deadline && allAlive(children)) {
            Thread.sleep(50);
        }
        if (!follower.pending.isEmpty()) {
            throw new IllegalStateException("warm-up abnormals not final within " + WARM_UP_TIMEOUT.toSeconds() + " s: "
                    + follower.pending.keySet() + "; " + lifeSigns(children));
        }
    }

    private void storm(Follower follower, int abnormals, int nodes, int partitions, Duration deadline, List<ChildJvm> children, ProcessSampler sampler,
            Map<ProcessSampler.Watched, Long> limits) throws Exception {
        List<ProducerRecord<String, byte[]>> records = new ArrayList<>(abnormals);
        for (int i = 0; i < abnormals; i++) {
            String node = Pipeline.node(i % nodes);
            records.add(new ProducerRecord<>(topics.abnormalRequests().name(), node,
                    requests.encode(SampleRecords.request(UID_PREFIX + i, node, SampleRecords.Work.NOOP))));
        }
        // idle again after the warm-up: what the storm adds is measured alone, and the idle cost beside it
        Thread.sleep(2000);
        Map<ProcessSampler.Watched, ProcStats> idleFrom = current(sampler);
        long idleStart = System.nanoTime();
        Thread.sleep(IDLE.toMillis());
        sampler.resetPeaks();
        long idleNanos = System.nanoTime() - idleStart;
        Map<ProcessSampler.Watched, ProcStats> before = current(sampler);
        BrokerRequests requestsBefore = BrokerRequests.now();
        long first;
        long firstMillis;
        long published;
        try (KafkaProducer<String, byte[]> producer = producer()) {
            firstMillis = System.currentTimeMillis();
            first = System.nanoTime();
            follower.firstMillis = firstMillis;
            for (int i = 0; i < abnormals; i++) {
                follower.pending.put(UID_PREFIX + i, System.nanoTime());
                producer.send(records.get(i));
            }
            producer.flush();
            published = System.nanoTime() - first;
        }
        long end = first + deadline.toNanos();
        while (!follower.pending.isEmpty() && System.nanoTime() < end && allAlive(children)) {
            Thread.sleep(50);
        }
        long waited = System.nanoTime() - first;
        sampler.sampleAll();
        follower.close();
        BrokerRequests requestsAfter = BrokerRequests.now();
        int notFinal = follower.pending.size();
        String label = String.format(Locale.ROOT, "%,d abnormals at once over %d nodes, %d partitions", abnormals, nodes, partitions);
        report.add("9 storm", label + ": publish (one producer, acks=all)", String.format(Locale.ROOT, "%.2f s = %s", published / 1e9,
                Report.rate(abnormals / (published / 1e9), "request")), "", null);
        double drain = (notFinal == 0 ? follower.lastFinal.get() - first : waited) / 1e9;
        double lastBridged = (follower.lastBridgedMillis.get() - firstMillis) / 1000.0;
        report.add("9 storm", "time to drain: first publish to last final",
                notFinal == 0 ? String.format(Locale.ROOT, "%.1f s (last bridged at %.1f s)", drain, lastBridged)
                        : String.format(Locale.ROOT, "not drained: %,d of %,d not final after %.0f s (last bridged at %.1f s, %,d bridged)",
                                notFinal, abnormals, drain, lastBridged, follower.bridged.get()),
                "<= 30 s", notFinal == 0 && drain <= DRAIN_TARGET_SECONDS);
        double finalsPerSecond = follower.finals.get() / drain;
        report.add("9 storm", "finals/s over the drain", Report.rate(finalsPerSecond, "final"), ">= 2,000 finals/s",
                notFinal == 0 && finalsPerSecond >= FINALS_TARGET);
        report.add("9 storm", "latency from publish to final",
                String.format(Locale.ROOT, "%s; %,d not final, %,d Failed", Report.latency(follower.micros), notFinal, follower.failed.get()),
                "all final, none Failed", notFinal == 0 && follower.failed.get() == 0);
        // from the agent on, only the final ones are seen: when not drained, those curves are of the first ones
        report.note(String.format(Locale.ROOT, "    storm progress, s after the first publish (50%% / 99%% / 100%%; bridged of %,d, "
                + "the rest of the %,d final): %s", follower.bridged.get(), follower.finals.get(), follower.progress()));
        // every client's requests: the idle polling of 500 agents' consumers as well as the work of each abnormal
        report.note("    storm broker requests per final: " + requestsAfter.perAbnormalSince(requestsBefore, follower.finals.get()));
        for (ProcessSampler.Watched process : sampler.watched()) {
            ProcStats idle = before.get(process);
            double cpu = (process.last().cpuTicks() - idle.cpuTicks()) / (double) ProcStats.TICKS_PER_SECOND;
            Long limit = limits.get(process);
            report.add("9 storm", "peak RSS: " + process.label(),
                    String.format(Locale.ROOT, "%s (idle before %s); CPU %.1f s in the storm, %.0f%% of a core idle before%s",
                            Report.mib(process.peakRss()), Report.mib(idle.rssBytes()), cpu,
                            ProcStats.coreShare(idleFrom.get(process), idle, idleNanos) * 100,
                            process.gone() ? "; ENDED during the storm" : ""),
                    limit == null ? "" : "limit " + Report.mib(limit) + " (deploy/base)", limit == null ? null : process.peakRss() <= limit);
        }
        if (!allAlive(children)) {
            report.note("    storm: " + lifeSigns(children));
        }
    }

    private static Map<ProcessSampler.Watched, ProcStats> current(ProcessSampler sampler) {
        sampler.sampleAll();
        Map<ProcessSampler.Watched, ProcStats> stats = new LinkedHashMap<>();
        sampler.watched().forEach(w -> stats.put(w, w.last()));
        return stats;
    }

    private static boolean allAlive(List<ChildJvm> children) {
        return children.stream().allMatch(ChildJvm::isAlive);
    }

    /** Which components ended, and where their logs are. */
    private static String lifeSigns(List<ChildJvm> children) {
        List<String> ended = children.stream().filter(c -> !c.isAlive()).map(c -> c.name() + c.exitText() + ", log " + c.log()).toList();
        return ended.isEmpty() ? "every component runs" : "ended: " + String.join("; ", ended);
    }

    private KafkaProducer<String, byte[]> producer() {
        Map<String, Object> props = new HashMap<>(kafka);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    }

    /** Closes every JVM at once: each may take its grace period. */
    private static void closeAll(List<ChildJvm> children) throws InterruptedException {
        List<Thread> closing = new ArrayList<>();
        for (ChildJvm child : children) {
            Thread thread = new Thread(() -> {
                try {
                    child.close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "bench-close-" + child.pid());
            thread.start();
            closing.add(thread);
        }
        for (Thread thread : closing) {
            thread.join();
        }
    }

    /**
     * Reads the bridge's output (when each request was passed on) and the status topic (when each became final) from
     * their ends; times the abnormals it is given in {@link #pending} until each is final.
     */
    private final class Follower implements Runnable, AutoCloseable {
        /** Uid to the nanoTime it was published at, until it is final. */
        final Map<String, Long> pending = new ConcurrentHashMap<>();
        /** Latency of the storm's abnormals, in microseconds. */
        final Histogram micros = new Histogram(3_600_000_000L, 3);
        final AtomicLong lastBridgedMillis = new AtomicLong();
        final AtomicLong bridged = new AtomicLong();
        final AtomicLong lastFinal = new AtomicLong();
        final AtomicLong finals = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        /** Offsets from the first publish, in ms, of when each storm abnormal passed each point. */
        private final Histogram bridgedAt = new Histogram(3_600_000L, 3);
        private final Histogram acceptedAt = new Histogram(3_600_000L, 3);
        private final Histogram lastEventAt = new Histogram(3_600_000L, 3);
        private final Histogram publishedAt = new Histogram(3_600_000L, 3);
        private final Histogram readAt = new Histogram(3_600_000L, 3);
        /** Epoch ms of the storm's first publish. */
        private volatile long firstMillis;
        private final CountDownLatch positioned = new CountDownLatch(1);
        private final Thread thread = new Thread(this, "bench-storm-follower");
        private volatile boolean stop;

        /** Starts following; returns once positioned at the ends, so that it sees whatever is published next. */
        void start() throws InterruptedException {
            thread.start();
            if (!positioned.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the storm's follower was not positioned within 60 s");
            }
        }

        /** Stops following; the figures stay as they are. */
        @Override
        public void close() throws InterruptedException {
            stop = true;
            if (thread.isAlive()) {
                thread.join();
            }
        }

        @Override
        public void run() {
            String statusTopic = topics.abnormalStatus().name();
            try (KafkaConsumer<String, byte[]> consumer = Latency.readCommitted(kafka)) {
                Latency.followFromEnd(consumer, statusTopic, topics.abnormals().name());
                positioned.countDown();
                while (!stop) {
                    for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(20))) {
                        if (record.topic().equals(statusTopic)) {
                            status(record);
                        } else if (requests.decode(record.value()).getUid().startsWith(UID_PREFIX)) {
                            bridged.incrementAndGet();
                            lastBridgedMillis.accumulateAndGet(record.timestamp(), Math::max);
                            bridgedAt.recordValue(Math.max(0, record.timestamp() - firstMillis));
                        }
                    }
                }
            }
        }

        /** When the storm's abnormals passed each point: the stage whose curve lags is where the time went. */
        String progress() {
            return "bridged " + quantiles(bridgedAt) + "; accepted by their agent " + quantiles(acceptedAt) + "; agent's last event "
                    + quantiles(lastEventAt) + "; final status published " + quantiles(publishedAt) + "; read " + quantiles(readAt);
        }

        private static String quantiles(Histogram millis) {
            return String.format(Locale.ROOT, "%.1f / %.1f / %.1f", millis.getValueAtPercentile(50) / 1000.0,
                    millis.getValueAtPercentile(99) / 1000.0, millis.getMaxValue() / 1000.0);
        }

        private void status(ConsumerRecord<String, byte[]> record) {
            Long at = pending.get(record.key());
            if (at == null) {
                return;
            }
            AbnormalStatus status = statuses.decode(record.value());
            Phase phase = status.getPhase();
            if (phase != Phase.Succeeded && phase != Phase.Failed) {
                return;
            }
            long now = System.nanoTime();
            if (record.key().startsWith(UID_PREFIX)) {
                micros.recordValue(Math.max(0, TimeUnit.NANOSECONDS.toMicros(now - at)));
                if (status.getStartTime() != null) {
                    acceptedAt.recordValue(Math.max(0, status.getStartTime().toEpochMilli() - firstMillis));
                }
                lastEventAt.recordValue(Math.max(0, status.getUpdatedAt().toEpochMilli() - firstMillis));
                publishedAt.recordValue(Math.max(0, record.timestamp() - firstMillis));
                readAt.recordValue(Math.max(0, System.currentTimeMillis() - firstMillis));
                lastFinal.set(now);
                finals.incrementAndGet();
                if (phase == Phase.Failed) {
                    failed.incrementAndGet();
                }
            }
            pending.remove(record.key());
        }
    }
}
