package io.kdiag.bench;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.kdiag.model.FoldState;
import io.kdiag.schemas.AvroSerde;
import io.kdiag.schemas.avro.DiagnosisEvent;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Replay: every event of a history topic read from the start, decoded and folded with {@link FoldState}, as replay does. */
final class Replay {
    private Replay() {
    }

    static void run(Map<String, Object> kafka, String topic, Report report) {
        Map<String, Object> props = new HashMap<>(kafka);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        AvroSerde<DiagnosisEvent> serde = AvroSerde.of(DiagnosisEvent.class);
        Map<String, FoldState> states = new HashMap<>();
        long events = 0;
        long start = System.nanoTime();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = Latency.partitions(consumer, topic);
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))) {
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(200));
                for (ConsumerRecord<String, byte[]> record : records) {
                    DiagnosisEvent event = serde.decode(record.value());
                    states.computeIfAbsent(event.getAbnormalUid(), uid -> FoldState.empty()).offer(event, FoldState.MAX_PENDING);
                    events++;
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        report.add("7 replay", "read + decode + fold " + topic + " (" + events + " events, " + states.size() + " abnormals)",
                Report.rate(events / seconds, "events"), "consume limit in section 1", null);
    }
}
