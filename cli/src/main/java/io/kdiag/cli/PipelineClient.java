package io.kdiag.cli;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.schemas.AvroSerde;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Phase;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Publishes Abnormals to the ingest topic and reads their statuses back from the status topic. */
final class PipelineClient implements AutoCloseable {
    private final Map<String, Object> kafka;
    private final Topics topics;
    private final KafkaProducer<String, byte[]> producer;
    private final AvroSerde<AbnormalRequest> requestSerde = AvroSerde.of(AbnormalRequest.class);

    PipelineClient(Map<String, Object> kafka, Topics topics) {
        this.kafka = Map.copyOf(kafka);
        this.topics = topics;
        Map<String, Object> config = new HashMap<>(kafka);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        this.producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
    }

    /**
     * Publishes an Abnormal as an {@link AbnormalRequest} keyed by its node and returns the uid it runs under.
     * The uid is the Abnormal's own when it has one, otherwise a new one.
     */
    String submit(Abnormal abnormal) {
        if (abnormal.getSpec() == null || abnormal.getSpec().nodeName == null) {
            throw new IllegalArgumentException("Abnormal " + abnormal.getMetadata().getName() + " has no spec.nodeName");
        }
        String uid = Optional.ofNullable(abnormal.getMetadata().getUid()).orElseGet(() -> UUID.randomUUID().toString());
        String namespace = Optional.ofNullable(abnormal.getMetadata().getNamespace()).orElse("default");
        Map<String, String> labels = abnormal.getMetadata().getLabels() == null ? Map.of() : abnormal.getMetadata().getLabels();
        AbnormalRequest request = AbnormalRequest.newBuilder()
                .setUid(uid)
                .setNamespace(namespace)
                .setName(abnormal.getMetadata().getName())
                .setNodeName(abnormal.getSpec().nodeName)
                .setOrigin(Origin.IngestTopic)
                .setRequestedAt(Instant.now())
                .setSpec(ApiSerialization.json(abnormal.getSpec()))
                .setLabels(new LinkedHashMap<>(labels))
                .build();
        try {
            producer.send(new ProducerRecord<>(topics.abnormalRequests().name(), request.getNodeName(), requestSerde.encode(request)))
                    .get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot publish to " + topics.abnormalRequests().name() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing", e);
        }
        return uid;
    }

    /**
     * Waits for the abnormal to reach Succeeded or Failed, calling {@code progress} with every snapshot on the way.
     *
     * @return the terminal snapshot, or empty when the timeout passed first
     */
    Optional<AbnormalStatus> awaitTerminal(String uid, Duration timeout, Consumer<AbnormalStatus> progress) {
        try (KafkaConsumer<String, AbnormalStatus> consumer = statusConsumer()) {
            String topic = topics.abnormalStatus().name();
            int partitions = consumer.partitionsFor(topic).size();
            TopicPartition partition = new TopicPartition(topic, TopicAdmin.partitionFor(uid, partitions));
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, AbnormalStatus> record : consumer.poll(Duration.ofMillis(200))) {
                    if (uid.equals(record.key()) && record.value() != null) {
                        progress.accept(record.value());
                        if (isTerminal(record.value().getPhase())) {
                            return Optional.of(record.value());
                        }
                    }
                }
            }
            return Optional.empty();
        }
    }

    /** The latest snapshot of every abnormal on the status topic. */
    Map<String, AbnormalStatus> latestStatuses() {
        Map<String, AbnormalStatus> latest = new LinkedHashMap<>();
        try (KafkaConsumer<String, AbnormalStatus> consumer = statusConsumer()) {
            List<TopicPartition> partitions = consumer.partitionsFor(topics.abnormalStatus().name()).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (ConsumerRecord<String, AbnormalStatus> record : consumer.poll(Duration.ofMillis(200))) {
                    if (record.value() == null) {
                        latest.remove(record.key());
                    } else {
                        latest.put(record.key(), record.value());
                    }
                }
            }
        }
        return latest;
    }

    static boolean isTerminal(Phase phase) {
        return phase == Phase.Succeeded || phase == Phase.Failed;
    }

    private KafkaConsumer<String, AbnormalStatus> statusConsumer() {
        Map<String, Object> config = new HashMap<>(kafka);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return new KafkaConsumer<>(config, new StringDeserializer(), topics.abnormalStatus().valueSerde().deserializer());
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }
}
