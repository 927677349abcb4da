package io.kdiag.bench;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import io.kdiag.schemas.AvroSerde;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Phase;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * End-to-end latency: an AbnormalRequest published to the ingest topic at a fixed rate, spread round-robin over the
 * simulated nodes, until its final status (Succeeded or Failed) is read from {@code kdiag.abnormal-status}. Latency
 * counts from the moment the request was due, so a publisher that falls behind does not hide the wait.
 */
final class Latency {
    private final Pipeline pipeline;
    private final Map<String, Object> kafka;
    private final Report report;
    private final AvroSerde<AbnormalRequest> requests = AvroSerde.of(AbnormalRequest.class);
    private final AvroSerde<AbnormalStatus> statuses = AvroSerde.of(AbnormalStatus.class);
    private final AtomicLong runs = new AtomicLong();

    Latency(Pipeline pipeline, Map<String, Object> kafka, Report report) {
        this.pipeline = pipeline;
        this.kafka = kafka;
        this.report = report;
    }

    /** Runs {@code rate} abnormals/s for {@code seconds} over the first {@code nodes} nodes; reports the distribution. */
    void run(SampleRecords.Work work, int rate, int nodes, int seconds, Duration drain) throws InterruptedException {
        pipeline.agents(nodes);
        long run = runs.incrementAndGet();
        Map<String, Long> due = new ConcurrentHashMap<>();
        Histogram micros = new Histogram(3_600_000_000L, 3);
        Breakdown parts = new Breakdown();
        AtomicLong failed = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong lastFinal = new AtomicLong();
        Thread reader = new Thread(() -> read(due, micros, parts, failed, lastFinal, stop), "bench-status-reader");
        reader.start();
        Thread.sleep(1000); // the reader is positioned at the end before the first request
        int total = rate * seconds;
        long period = 1_000_000_000L / rate;
        Map<String, Object> props = new HashMap<>(kafka);
        BrokerRequests before = BrokerRequests.now();
        long start;
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
            start = System.nanoTime();
            for (int i = 0; i < total; i++) {
                long at = start + i * period;
                long wait = at - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                String node = Pipeline.node(i % nodes);
                String uid = "lat-" + run + "-" + i;
                due.put(uid, at);
                producer.send(new ProducerRecord<>(pipeline.topics().abnormalRequests().name(), node,
                        requests.encode(SampleRecords.request(uid, node, work))));
            }
            producer.flush();
        }
        long deadline = System.nanoTime() + drain.toNanos();
        while (!due.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        stop.set(true);
        reader.join();
        BrokerRequests after = BrokerRequests.now();
        String label = String.format("%s %d/s, %d nodes, %d s", work == SampleRecords.Work.NOOP ? "no-op" : "process-collector",
                rate, nodes, seconds);
        boolean target = work == SampleRecords.Work.NOOP && rate == 500;
        double p99 = micros.getValueAtPercentile(99) / 1000.0;
        double completed = micros.getTotalCount() / Math.max(1e-9, (lastFinal.get() - start) / 1e9);
        report.add("2 e2e", label, Report.latency(micros) + ", " + Report.rate(completed, "final"),
                target ? "p99 <= 150 ms at 500/s" : "offered " + rate + "/s", target ? due.isEmpty() && p99 <= 150 : null);
        report.note("    " + label + " where the time went (p50 / p99 ms): " + parts);
        // every client's requests, the bench's publisher and reader included
        report.note("    " + label + " broker requests per final: " + after.perAbnormalSince(before, micros.getTotalCount()));
        if (!due.isEmpty() || failed.get() > 0) {
            report.note(String.format("    %s: %d of %d not final within the drain of %d s; %d ended Failed", label, due.size(), total,
                    drain.toSeconds(), failed.get()));
        }
    }

    private void read(Map<String, Long> due, Histogram micros, Breakdown parts, AtomicLong failed, AtomicLong lastFinal,
            AtomicBoolean stop) {
        String statusTopic = pipeline.topics().abnormalStatus().name();
        // the bridge's output too: its records' timestamps say when the bridge passed each request on
        Map<String, Long> bridged = new HashMap<>();
        try (KafkaConsumer<String, byte[]> consumer = readCommitted(kafka)) {
            followFromEnd(consumer, statusTopic, pipeline.topics().abnormals().name());
            while (!stop.get()) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(20))) {
                    if (!record.topic().equals(statusTopic)) {
                        bridged.put(requests.decode(record.value()).getUid(), record.timestamp());
                        continue;
                    }
                    Long at = due.get(record.key());
                    if (at == null) {
                        continue;
                    }
                    AbnormalStatus status = statuses.decode(record.value());
                    if (status.getPhase() == Phase.Succeeded || status.getPhase() == Phase.Failed) {
                        long now = System.nanoTime();
                        micros.recordValue(Math.max(0, (now - at) / 1000));
                        parts.record(at, bridged.getOrDefault(record.key(), -1L), now, status, record.timestamp());
                        due.remove(record.key());
                        lastFinal.set(System.nanoTime());
                        if (status.getPhase() == Phase.Failed) {
                            failed.incrementAndGet();
                        }
                    }
                }
            }
        }
    }

    /**
     * Splits each latency at the instants the pipeline records: the bridge's output record's timestamp (when it
     * sent the abnormal on), the agent's Accepted event (startTime) and last event (updatedAt), and the status
     * record's timestamp (when the fold published it). All clocks are this JVM's.
     */
    private static final class Breakdown {
        private final Histogram toBridged = new Histogram(3_600_000_000L, 3);
        private final Histogram toAccepted = new Histogram(3_600_000_000L, 3);
        private final Histogram agentRun = new Histogram(3_600_000_000L, 3);
        private final Histogram toPublished = new Histogram(3_600_000_000L, 3);
        private final Histogram toRead = new Histogram(3_600_000_000L, 3);
        private final long nanoOffset = System.currentTimeMillis() * 1000 - System.nanoTime() / 1000;

        /** {@code due} and {@code read} in nanoTime; the rest in epoch time; {@code bridgedMillis} -1 when not seen. */
        void record(long due, long bridgedMillis, long read, AbnormalStatus status, long publishedMillis) {
            long dueMicros = due / 1000 + nanoOffset;
            long readMicros = read / 1000 + nanoOffset;
            long bridged = bridgedMillis < 0 ? dueMicros : bridgedMillis * 1000;
            long accepted = micros(status.getStartTime());
            long last = micros(status.getUpdatedAt());
            long published = publishedMillis * 1000;
            toBridged.recordValue(Math.max(0, bridged - dueMicros));
            toAccepted.recordValue(Math.max(0, accepted - bridged));
            agentRun.recordValue(Math.max(0, last - accepted));
            toPublished.recordValue(Math.max(0, published - last));
            toRead.recordValue(Math.max(0, readMicros - published));
        }

        private static long micros(Instant instant) {
            return instant.getEpochSecond() * 1_000_000 + instant.getNano() / 1000;
        }

        private static String p(Histogram h) {
            return String.format(Locale.ROOT, "%.0f / %.0f", h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0);
        }

        @Override
        public String toString() {
            return "due→bridged (publish, bridge) " + p(toBridged) + "; bridged→Accepted (bridge commit, agent fetch and queue) "
                    + p(toAccepted) + "; agent run " + p(agentRun)
                    + "; last event→status published (fold) " + p(toPublished) + "; published→read (commit) " + p(toRead);
        }
    }

    /** A consumer without a group that reads only committed records, for records the bench follows. */
    static KafkaConsumer<String, byte[]> readCommitted(Map<String, Object> kafka) {
        Map<String, Object> props = new HashMap<>(kafka);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
    }

    /** Assigns every partition of {@code topics} to {@code consumer}, positioned at their ends: it reads what follows. */
    static void followFromEnd(KafkaConsumer<?, ?> consumer, String... topics) {
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : topics) {
            partitions.addAll(partitions(consumer, topic));
        }
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position);
    }

    static List<TopicPartition> partitions(KafkaConsumer<?, ?> consumer, String topic) {
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
            partitions.add(new TopicPartition(topic, info.partition()));
        }
        return partitions;
    }
}
