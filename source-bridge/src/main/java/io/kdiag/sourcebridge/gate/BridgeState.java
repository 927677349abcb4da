package io.kdiag.sourcebridge.gate;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bridge's memory: dedup key → when it was last forwarded. It lives in the compacted topic
 * {@link io.kdiag.common.kafka.KafkaNames#bridgeStateTopic()}, written once the forwarded requests they name are acknowledged, and is
 * read back whole at start, so restarts and relists do not forward again what was forwarded before (only what was
 * forwarded in the moment before a crash, whose entries were not written yet, is forwarded again). Keys are scoped ({@code bridge/}, or
 * {@code log/<node>/} for a node's log source) so each writer loads only its own part.
 *
 * <p>Owned by the gate thread after {@link #load}.
 */
final class BridgeState {
    private static final Logger LOG = LoggerFactory.getLogger(BridgeState.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** Old entries go with their segments: a month is far longer than any repeat interval or Event lifetime. */
    private static final String RETENTION_MS = String.valueOf(30L * 24 * 3600 * 1000);

    private final String topic;
    private final String scope;
    private final Map<String, Long> lastForwarded = new HashMap<>();

    private BridgeState(String topic, String scope) {
        this.topic = topic;
        this.scope = scope;
    }

    /**
     * Creates the topic if it is missing and reads every entry of {@code scope}.
     */
    static BridgeState load(Map<String, Object> kafka, String topic, String scope, short replicationFactor) {
        ensureTopic(kafka, topic, replicationFactor, Map.of("cleanup.policy", "compact,delete", "retention.ms", RETENTION_MS));
        BridgeState state = new BridgeState(topic, scope);
        Map<String, Object> settings = new HashMap<>(kafka);
        settings.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        settings.remove(ConsumerConfig.GROUP_ID_CONFIG);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(settings, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, TIMEOUT);
            List<TopicPartition> partitions = infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
            long deadline = System.nanoTime() + TIMEOUT.toNanos() * 5;
            while (partitions.stream().anyMatch(p -> consumer.position(p, TIMEOUT) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read " + topic + " to its end within " + TIMEOUT.toSeconds() * 5 + " s");
                }
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    state.apply(record.key(), record.value());
                }
            }
        }
        LOG.info("bridge state loaded topic={} scope={} entries={}", topic, scope, state.lastForwarded.size());
        return state;
    }

    private void apply(byte[] key, byte[] value) {
        if (key == null) {
            return;
        }
        String text = new String(key, StandardCharsets.UTF_8);
        if (!text.startsWith(scope)) {
            return;
        }
        String local = text.substring(scope.length());
        if (value == null) {
            lastForwarded.remove(local);
            return;
        }
        try {
            lastForwarded.put(local, Long.parseLong(new String(value, StandardCharsets.UTF_8)));
        } catch (NumberFormatException e) {
            LOG.warn("ignoring an unreadable state entry key={}", text);
        }
    }

    /** Creates one of the gate's own topics (one partition) where it is missing. */
    static void ensureTopic(Map<String, Object> kafka, String topic, short replicationFactor, Map<String, String> config) {
        try (Admin admin = Admin.create(kafka)) {
            Set<String> existing = admin.listTopics().names().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            if (!existing.contains(topic)) {
                admin.createTopics(List.of(new NewTopic(topic, 1, replicationFactor).configs(config)))
                        .all().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                LOG.info("created the gate's topic topic={}", topic);
            }
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("cannot create " + topic + ": " + e.getCause().getMessage(), e.getCause());
            }
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka did not answer within " + TIMEOUT.toSeconds() + " s while creating " + topic, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating " + topic, e);
        }
    }

    String topic() {
        return topic;
    }

    /** The full record key of a scoped key. */
    byte[] recordKey(String key) {
        return (scope + key).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] recordValue(long epochMillis) {
        return String.valueOf(epochMillis).getBytes(StandardCharsets.UTF_8);
    }

    /** When {@code key} was last forwarded, or {@code null}. */
    Long lastForwarded(String key) {
        return lastForwarded.get(key);
    }

    /** Takes in entries that Kafka acknowledged. */
    void written(Map<String, Long> entries) {
        lastForwarded.putAll(entries);
    }

    int size() {
        return lastForwarded.size();
    }

    @Override
    public String toString() {
        return lastForwarded.keySet().stream().limit(5).collect(Collectors.joining(", ", topic + "[", "…]"));
    }
}
