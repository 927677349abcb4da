package io.kdiag.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.model.FoldState;
import io.kdiag.model.FoldStateSerde;
import io.kdiag.schemas.AvroSerde;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.statuswriter.StatusWriterConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The status fold against a plain Kafka Streams aggregate of the same records, in the same run, with the same
 * settings (the status writer's: processing guarantee, commit interval, persistent cached RocksDB store, same value
 * format): events/s from RUNNING until the
 * application's committed offsets reach the end of its input. The aggregate reads a copy of the events keyed by uid
 * (groupByKey without a repartition); the fold reads them keyed by node as deployed and keeps its history store too.
 */
final class FoldThroughput {
    static final String FOLD_PREFIX = "fold.";
    static final String PLAIN_INPUT = "fold-plain.events";
    static final String PLAIN_OUTPUT = "fold-plain.status";

    private FoldThroughput() {
    }

    /** Produces {@code abnormals} typical abnormals (13 events each) over 500 nodes to both inputs; returns the event count. */
    static long produce(Map<String, Object> kafka, int abnormals) throws Exception {
        Topics topics = new Topics(FOLD_PREFIX);
        TopicAdmin.ensureTopics(kafka, topics, Pipeline.PARTITIONS, (short) 1);
        try (Admin admin = Admin.create(kafka)) {
            admin.createTopics(Set.of(new NewTopic(PLAIN_INPUT, Pipeline.PARTITIONS, (short) 1),
                    new NewTopic(PLAIN_OUTPUT, Pipeline.PARTITIONS, (short) 1))).all().get();
        }
        Leaders.await(kafka, List.of(topics.diagnosisEvents().name(), PLAIN_INPUT, PLAIN_OUTPUT));
        AvroSerde<DiagnosisEvent> serde = AvroSerde.of(DiagnosisEvent.class);
        Random random = new Random(42);
        long events = 0;
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(new HashMap<>(kafka), new StringSerializer(), new ByteArraySerializer())) {
            for (int a = 0; a < abnormals; a++) {
                String node = "node-" + random.nextInt(500);
                String uid = String.format("fold-%08d-0000-0000-0000-000000000000", a);
                for (DiagnosisEvent event : SampleRecords.typicalEvents(uid, node)) {
                    byte[] value = serde.encode(event);
                    producer.send(new ProducerRecord<>(topics.diagnosisEvents().name(), node, value));
                    producer.send(new ProducerRecord<>(PLAIN_INPUT, uid, value));
                    events++;
                }
            }
            producer.flush();
        }
        return events;
    }

    /**
     * Runs the status writer and the plain aggregate over the produced events twice, in alternating order (fold,
     * plain, plain, fold), so that neither profits alone from a warmer JIT or a quieter machine; reports each one's
     * events/s over both rounds, the CPU its stream thread spent per event, and the ratio.
     */
    static void run(Map<String, Object> kafka, Path dir, Report report, long events) throws Exception {
        Run fold = new Run();
        Run plain = new Run();
        fold.add(runFold(kafka, dir, 1, events));
        plain.add(runPlain(kafka, dir, 1, events));
        plain.add(runPlain(kafka, dir, 2, events));
        fold.add(runFold(kafka, dir, 2, events));
        Properties settings = StatusWriter.streamsProperties(config(dir, "settings"), kafka);
        report.add("3 fold", "status fold (StatusWriter, " + events + " events x 2 rounds, " + settings.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG)
                + ", commit " + settings.get(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG) + " ms)", fold.describe(), "", null);
        report.add("3 fold", "plain groupByKey().aggregate (same records, settings, store format)", plain.describe(), "", null);
        double ratio = fold.rate() / plain.rate();
        report.add("3 fold", "fold / plain aggregate, events/s (CPU per event: plain / fold)",
                Report.ratio(ratio) + " (" + Report.ratio(plain.cpuPerEvent() / fold.cpuPerEvent()) + ")", ">= 0.8", ratio >= 0.8);
    }

    /** One application's runs: events, wall time and its stream thread's CPU time, summed. */
    private static final class Run {
        private long events;
        private long nanos;
        private long cpuNanos;

        void add(Run round) {
            events += round.events;
            nanos += round.nanos;
            cpuNanos += round.cpuNanos;
        }

        double rate() {
            return events / (nanos / 1e9);
        }

        double cpuPerEvent() {
            return cpuNanos / (double) events;
        }

        String describe() {
            return Report.rate(rate(), "events") + String.format(Locale.ROOT, ", %.1f µs CPU/event", cpuPerEvent() / 1000);
        }
    }

    private static Run runFold(Map<String, Object> kafka, Path dir, int round, long events) throws Exception {
        Topics topics = new Topics(FOLD_PREFIX);
        String applicationId = "bench-fold-" + round;
        try (StatusWriter writer = StatusWriter.start(config(dir, applicationId), kafka, new SimpleMeterRegistry(), null)) {
            return measure(kafka, applicationId, topics.diagnosisEvents().name(), events);
        }
    }

    private static Run runPlain(Map<String, Object> kafka, Path dir, int round, long events) throws Exception {
        String applicationId = "bench-plain-" + round;
        Properties props = StatusWriter.streamsProperties(config(dir, applicationId), kafka);
        StreamsBuilder builder = new StreamsBuilder();
        AvroSerde<DiagnosisEvent> eventSerde = AvroSerde.of(DiagnosisEvent.class);
        builder.stream(PLAIN_INPUT, Consumed.with(Serdes.String(), eventSerde))
                .groupByKey()
                .aggregate(FoldState::empty, (uid, event, state) -> {
                    state.offer(event, FoldState.MAX_PENDING);
                    return state;
                }, Materialized.<String, FoldState, KeyValueStore<Bytes, byte[]>>as("plain-fold-store")
                        .withKeySerde(Serdes.String()).withValueSerde(new FoldStateSerde()))
                .toStream()
                .mapValues(FoldState::current)
                .to(PLAIN_OUTPUT, Produced.with(Serdes.String(), AvroSerde.of(AbnormalStatus.class)));
        try (KafkaStreams streams = new KafkaStreams(builder.build(), props)) {
            CompletableFuture<Void> running = new CompletableFuture<>();
            streams.setStateListener((now, before) -> {
                if (now == KafkaStreams.State.RUNNING) {
                    running.complete(null);
                }
            });
            streams.start();
            running.get(2, TimeUnit.MINUTES);
            return measure(kafka, applicationId, PLAIN_INPUT, events);
        }
    }

    /** The status writer's configuration, as deployed, for an application reading the fold topics. */
    private static StatusWriterConfig config(Path dir, String applicationId) {
        return StatusWriterConfig.from(Pipeline.config(dir.resolve(applicationId), Map.of("KDIAG_TOPIC_PREFIX", FOLD_PREFIX)))
                .withApplicationId(applicationId);
    }

    /** Times a running application from now until it consumed {@code topic}; its stream thread's CPU over that time. */
    private static Run measure(Map<String, Object> kafka, String applicationId, String topic, long events) throws Exception {
        Thread streamThread = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(applicationId + "-") && t.getName().endsWith("-StreamThread-1"))
                .findFirst().orElseThrow(() -> new IllegalStateException("no stream thread of " + applicationId));
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long cpuBefore = threads.getThreadCpuTime(streamThread.getId());
        long start = System.nanoTime();
        awaitConsumed(kafka, applicationId, topic, Duration.ofMinutes(5));
        Run run = new Run();
        run.events = events;
        run.nanos = System.nanoTime() - start;
        run.cpuNanos = threads.getThreadCpuTime(streamThread.getId()) - cpuBefore;
        return run;
    }

    /** Waits until the group's committed offsets reach the end of every partition of {@code topic}. */
    static void awaitConsumed(Map<String, Object> kafka, String group, String topic, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = Admin.create(kafka)) {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions()
                    .forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(latest).all().get();
            while (System.nanoTime() < deadline) {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
                boolean done = ends.entrySet().stream().allMatch(e -> {
                    OffsetAndMetadata c = committed.get(e.getKey());
                    // at least once the committed offset reaches the end seen before; exactly-once passes the marker
                    // of the last transaction too
                    return e.getValue().offset() == 0 || c != null && c.offset() >= e.getValue().offset();
                });
                if (done) {
                    return;
                }
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("group " + group + " did not consume " + topic + " within " + timeout);
    }
}
