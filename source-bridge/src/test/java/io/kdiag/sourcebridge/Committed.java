package io.kdiag.sourcebridge;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import io.kdiag.schemas.AvroSerde;
import io.kdiag.schemas.avro.AbnormalRequest;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Reads what was committed to a topic, for the ITs. */
final class Committed {
    static final Duration WAIT = Duration.ofSeconds(60);

    private Committed() {
    }

    /** Every record committed to {@code topic} so far, read from the start up to the last stable offset. */
    static List<ConsumerRecord<byte[], byte[]>> records(String bootstrap, String topic, int partitions) {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> all = IntStream.range(0, partitions).mapToObj(p -> new TopicPartition(topic, p)).toList();
            consumer.assign(all);
            consumer.seekToBeginning(all);
            Map<TopicPartition, Long> end = consumer.endOffsets(all);
            while (all.stream().anyMatch(partition -> consumer.position(partition) < end.get(partition))) {
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
            }
        }
        return records;
    }

    /** Every request committed to {@code topic} so far, checked to be keyed by its node. */
    static List<AbnormalRequest> requests(String bootstrap, String topic, int partitions) {
        List<AbnormalRequest> requests = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : records(bootstrap, topic, partitions)) {
            AbnormalRequest request = AvroSerde.of(AbnormalRequest.class).decode(r.value());
            if (!new String(r.key(), java.nio.charset.StandardCharsets.UTF_8).equals(request.getNodeName())) {
                throw new AssertionError("record key " + new String(r.key()) + " is not the node of " + request);
            }
            requests.add(request);
        }
        return requests;
    }

    /** Waits until at least {@code count} requests are committed, and returns them all. */
    static List<AbnormalRequest> awaitAtLeast(String bootstrap, String topic, int partitions, int count) {
        return await().atMost(WAIT).until(() -> requests(bootstrap, topic, partitions), r -> r.size() >= count);
    }

    /** Asserts the count stays at {@code count} for a while: nothing more arrives late. */
    static List<AbnormalRequest> awaitSteady(String bootstrap, String topic, int partitions, int count) {
        awaitAtLeast(bootstrap, topic, partitions, count);
        await().during(Duration.ofSeconds(3)).atMost(WAIT).until(() -> requests(bootstrap, topic, partitions).size(), n -> n == count);
        return requests(bootstrap, topic, partitions);
    }
}
