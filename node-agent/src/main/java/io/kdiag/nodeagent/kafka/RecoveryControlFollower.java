package io.kdiag.nodeagent.kafka;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.kdiag.nodeagent.run.RecoverySwitch;
import io.kdiag.schemas.Topic;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.RecoveryControl;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the recovery-control topic into a {@link RecoverySwitch}: every partition, from the beginning, without a
 * consumer group (every agent reads everything), the latest record keyed {@code recoveries} winning. A record arrives
 * within one fetch of its write, so a pause reaches every agent in well under a second.
 */
public final class RecoveryControlFollower implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RecoveryControlFollower.class);
    private static final Duration PARTITIONS_WAIT = Duration.ofSeconds(60);

    private final KafkaConsumer<String, byte[]> consumer;
    private final Deserializer<RecoveryControl> values;
    private final Map<TopicPartition, Long> endAtStart;
    private final RecoverySwitch recoveries;
    private final String nodeName;
    private final TopicFollower follower;

    private RecoveryControlFollower(KafkaConsumer<String, byte[]> consumer, Topic<String, RecoveryControl> topic,
            Map<TopicPartition, Long> endAtStart, RecoverySwitch recoveries, String nodeName) {
        this.consumer = consumer;
        this.values = topic.valueSerde().deserializer();
        this.endAtStart = endAtStart;
        this.recoveries = recoveries;
        this.nodeName = nodeName;
        // a poll that fails leaves the switch as it was: paused until read, else the last state read
        this.follower = new TopicFollower(consumer, "recovery-control", nodeName, this::follow);
    }

    /**
     * Assigns every partition of the recovery-control topic from the beginning and starts following it.
     *
     * @throws IllegalStateException if the topic does not exist
     */
    public static RecoveryControlFollower start(Map<String, Object> kafka, String nodeName, Topics topics, RecoverySwitch recoveries) {
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(properties(kafka, nodeName), new StringDeserializer(),
                new ByteArrayDeserializer());
        try {
            String name = topics.recoveryControl().name();
            List<PartitionInfo> partitions = consumer.partitionsFor(name, PARTITIONS_WAIT);
            if (partitions.isEmpty()) {
                throw new IllegalStateException("topic " + name + " does not exist");
            }
            List<TopicPartition> assigned = partitions.stream().map(p -> new TopicPartition(name, p.partition())).toList();
            consumer.assign(assigned);
            consumer.seekToBeginning(assigned);
            Map<TopicPartition, Long> end = consumer.endOffsets(assigned, PARTITIONS_WAIT);
            RecoveryControlFollower follower = new RecoveryControlFollower(consumer, topics.recoveryControl(), end, recoveries, nodeName);
            follower.follower.start();
            return follower;
        } catch (RuntimeException e) {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
            throw e;
        }
    }

    /** The consumer's settings: the user's Kafka settings, without a group, and the agents' long idle fetch. */
    static Map<String, Object> properties(Map<String, Object> kafka, String nodeName) {
        Map<String, Object> props = new HashMap<>(kafka);
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "kdiag-recovery-control-" + nodeName);
        // a pause is answered at once all the same: the broker returns a waiting fetch when a record arrives
        props.putIfAbsent(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, PartitionConsumer.IDLE_FETCH_WAIT_MS);
        return props;
    }

    /** One poll's records: applied in order, then whether the end the topic had at start is reached. */
    private void follow(ConsumerRecords<String, byte[]> records) {
        records.forEach(this::apply);
        if (!recoveries.hasReadToEnd() && endAtStart.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
            recoveries.readToEnd();
            LOG.info("recovery control read node={} paused={} reason={}", nodeName, recoveries.paused(), recoveries.pausedBecause());
        }
    }

    private void apply(ConsumerRecord<String, byte[]> record) {
        if (!Topics.RECOVERY_CONTROL_KEY.equals(record.key())) {
            LOG.warn("recovery control record ignored node={} key={} offset={}: only the key {} means anything", nodeName, record.key(),
                    record.offset(), Topics.RECOVERY_CONTROL_KEY);
            return;
        }
        RecoveryControl control;
        try {
            control = record.value() == null ? null : values.deserialize(record.topic(), record.value());
        } catch (RuntimeException e) {
            LOG.warn("recovery control record unreadable node={} offset={} error={}", nodeName, record.offset(), e.toString());
            recoveries.unreadable(e.getMessage());
            return;
        }
        recoveries.apply(control);
        LOG.info("recovery control changed node={} paused={} changed-by={} offset={}", nodeName, control != null && control.getPaused(),
                control == null ? null : control.getChangedBy(), record.offset());
    }

    /** Stops following; the switch keeps its last state. */
    @Override
    public void close() {
        follower.close();
    }
}
