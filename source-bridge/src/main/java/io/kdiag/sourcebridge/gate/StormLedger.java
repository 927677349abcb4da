package io.kdiag.sourcebridge.gate;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The storm budget every gate of an installation shares: one record per storm-limited abnormal started, on
 * {@link io.kdiag.common.kafka.KafkaNames#stormLedgerTopic()} (key the node, value {@code <writer> <epoch millis>}),
 * sent with the forward of the abnormal, so that a start is on it when it happened (twice if a crash makes the gate
 * forward it again: more suppression, never less). Each
 * gate reads the last minute of it when it starts and follows it from there, counting the starts of every other gate,
 * and of its own earlier lives, in its {@link StormLimiter}: a restarted bridge goes on with the minute as it was, and
 * the log sources of all nodes and the bridge draw on one cluster-wide budget. Only the last minute matters; the topic
 * keeps an hour. Used by the gate thread only, after {@link #open}.
 */
final class StormLedger implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StormLedger.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final Duration WINDOW = Duration.ofMinutes(1);
    /** How long taking a storm token may wait for the ledger's end. */
    private static final Duration CATCH_UP_TIMEOUT = Duration.ofSeconds(2);
    private static final Map<String, String> TOPIC_CONFIG = Map.of("cleanup.policy", "delete",
            "retention.ms", String.valueOf(Duration.ofHours(1).toMillis()), "segment.ms", String.valueOf(Duration.ofMinutes(10).toMillis()));

    private final String topic;
    /** This life of this gate: its own records were counted when taken, and are skipped when read back. */
    private final String writer = UUID.randomUUID().toString();
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final StormLimiter limiter;

    private StormLedger(String topic, KafkaConsumer<byte[], byte[]> consumer, StormLimiter limiter) {
        this.topic = topic;
        this.consumer = consumer;
        this.limiter = limiter;
    }

    /**
     * Creates the topic if it is missing, reads the starts of the last minute into {@code limiter}, and stays at the end.
     *
     * @param now epoch milliseconds
     */
    static StormLedger open(Map<String, Object> kafka, String topic, short replicationFactor, StormLimiter limiter, long now) {
        BridgeState.ensureTopic(kafka, topic, replicationFactor, TOPIC_CONFIG);
        Map<String, Object> settings = new HashMap<>(kafka);
        settings.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        settings.remove(ConsumerConfig.GROUP_ID_CONFIG);
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(settings, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        StormLedger ledger = new StormLedger(topic, consumer, limiter);
        try {
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            List<TopicPartition> partitions = List.of();
            // a topic just created may not be in the metadata yet
            while (partitions.isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("topic " + topic + " has no partitions after " + TIMEOUT.toSeconds() + " s");
                }
                partitions = consumer.partitionsFor(topic, TIMEOUT).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            }
            consumer.assign(partitions);
            Map<TopicPartition, Long> since = new HashMap<>();
            partitions.forEach(p -> since.put(p, now - WINDOW.toMillis()));
            Map<TopicPartition, OffsetAndTimestamp> from = consumer.offsetsForTimes(since, TIMEOUT);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
            for (TopicPartition partition : partitions) {
                OffsetAndTimestamp offset = from.get(partition);
                consumer.seek(partition, offset == null ? end.get(partition) : offset.offset());
            }
            int read = ledger.readUntil(end, deadline);
            if (read < 0) {
                throw new IllegalStateException("could not read the last minute of " + topic + " within " + TIMEOUT.toSeconds() + " s");
            }
            LOG.info("storm ledger read topic={} startsInTheLastMinute={}", topic, read);
            return ledger;
        } catch (RuntimeException e) {
            consumer.close();
            throw e;
        }
    }

    /** The record of a start, to be sent with the forward of the abnormal. */
    ProducerRecord<byte[], byte[]> record(String node, long at) {
        return new ProducerRecord<>(topic, node.getBytes(StandardCharsets.UTF_8), (writer + " " + at).getBytes(StandardCharsets.UTF_8));
    }

    /** Counts the starts of the other gates that arrived since the last call, without waiting for any. */
    void catchUp() {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ZERO)) {
            apply(record);
        }
    }

    /**
     * Counts every start the other gates wrote before this call, waiting for the broker: the ledger's end (a
     * round trip), then a fetch when something is new. Called before taking storm tokens, so that gates deciding one
     * after the other never exceed the budget; only gates deciding at the same moment can. When the
     * broker does not answer within {@link #CATCH_UP_TIMEOUT}, it goes on with what it counted: a stuck ledger must not
     * stop the gate.
     */
    void readToEnd() {
        try {
            Map<TopicPartition, Long> end = consumer.endOffsets(consumer.assignment(), CATCH_UP_TIMEOUT);
            if (readUntil(end, System.nanoTime() + CATCH_UP_TIMEOUT.toNanos()) < 0) {
                LOG.warn("storm ledger not read to its end within {} ms; deciding with what it counted", CATCH_UP_TIMEOUT.toMillis());
            }
        } catch (TimeoutException e) {
            LOG.warn("storm ledger end unknown within {} ms; deciding with what it counted", CATCH_UP_TIMEOUT.toMillis());
        }
    }

    /** Reads up to {@code end}; the records read, or -1 when the deadline ({@link System#nanoTime()}) passed first. */
    private int readUntil(Map<TopicPartition, Long> end, long deadline) {
        int read = 0;
        // a position the consumer must look up waits no longer than the deadline either
        while (end.entrySet().stream().anyMatch(e -> consumer.position(e.getKey(), remaining(deadline)) < e.getValue())) {
            if (System.nanoTime() > deadline) {
                return -1;
            }
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(50))) {
                apply(record);
                read++;
            }
        }
        return read;
    }

    private static Duration remaining(long deadline) {
        return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }

    private void apply(ConsumerRecord<byte[], byte[]> record) {
        String[] value = record.value() == null ? new String[0] : new String(record.value(), StandardCharsets.UTF_8).split(" ");
        if (record.key() == null || value.length != 2) {
            LOG.warn("ignoring an unreadable storm ledger record partition={} offset={}", record.partition(), record.offset());
            return;
        }
        if (value[0].equals(writer)) {
            return;
        }
        try {
            limiter.started(new String(record.key(), StandardCharsets.UTF_8), Long.parseLong(value[1]));
        } catch (NumberFormatException e) {
            LOG.warn("ignoring an unreadable storm ledger record partition={} offset={}", record.partition(), record.offset());
        }
    }

    @Override
    public void close() {
        consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
    }
}
