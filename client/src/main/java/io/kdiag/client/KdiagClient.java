package io.kdiag.client;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Predicate;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.model.ApprovalDecisions;
import io.kdiag.model.Phases;
import io.kdiag.model.StatusFold;
import io.kdiag.model.StatusProjection;
import io.kdiag.schemas.Evidence;
import io.kdiag.schemas.SendAndWait;
import io.kdiag.schemas.Topic;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.ApprovalDecision;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.signing.SignedDecisions;
import io.kdiag.schemas.signing.SigningKey;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kube Diagnoser client: submits Abnormals and reads what became of them, straight from the pipeline's Kafka
 * topics (and, for {@link #create}, the Kubernetes API server). It needs no Kube Diagnoser service of its own.
 *
 * <pre>{@code
 * try (KdiagClient kdiag = KdiagClient.builder().bootstrapServers("kafka:9092").build()) {
 *     String uid = kdiag.publish(abnormal);
 *     Optional<AbnormalStatus> status = kdiag.awaitFinalStatus(uid, Duration.ofMinutes(2));
 *     kdiag.history(uid).forEach(System.out::println);
 * }
 * }</pre>
 *
 * <p>Statuses are the Avro snapshots of {@code kdiag.abnormal-status} ({@link AbnormalStatus}: uid, name, node, phase,
 * conditions, context as JSON, ...); {@link StatusProjection} turns one into the Abnormal's {@code .status}
 * as Kubernetes shows it. Events are the {@link DiagnosisEvent}s of {@code kdiag.diagnosis-events}, the history the
 * statuses are folded from.
 *
 * <p>Thread-safe. Every read opens its own consumer (no consumer group, no committed offsets), so reads never
 * interfere with each other or with the pipeline.
 */
public final class KdiagClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KdiagClient.class);
    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration EVIDENCE_TIMEOUT = Duration.ofSeconds(60);

    private final Map<String, Object> kafka;
    private final Topics topics;
    private final KubernetesClient kubernetes;
    private final AtomicLong unreadable = new AtomicLong();
    private KafkaProducer<byte[], byte[]> producer;

    private KdiagClient(Builder builder) {
        this.kafka = Map.copyOf(builder.kafka);
        // statuses and events of a later version read through the schemas topic
        this.topics = Topics.reading(builder.topicPrefix, kafka);
        this.kubernetes = builder.kubernetes;
    }

    /** A builder; at least the bootstrap servers must be given. */
    public static Builder builder() {
        return new Builder();
    }

    /** The topics this client reads and writes. */
    public Topics topics() {
        return topics;
    }

    /** The Kubernetes client given to the builder, if any. */
    public Optional<KubernetesClient> kubernetes() {
        return Optional.ofNullable(kubernetes);
    }

    /**
     * Publishes an Abnormal to the ingest topic ({@code kdiag.abnormal-requests}) as an {@link AbnormalRequest} keyed by
     * its node, where the source bridge validates it and hands it to that node's agent. No Kubernetes cluster is
     * involved. Returns once the broker acknowledged the record.
     *
     * @param abnormal an Abnormal with {@code metadata.name} and {@code spec.nodeName}; namespace defaults to
     *     {@code default}
     * @return the uid the abnormal runs under: its {@code metadata.uid} when set, otherwise a new random one
     * @throws IllegalArgumentException when the name or node is missing
     * @throws KdiagException when Kafka did not acknowledge the record within 30 s
     */
    public String publish(Abnormal abnormal) {
        Objects.requireNonNull(abnormal, "abnormal");
        if (abnormal.getMetadata() == null || abnormal.getMetadata().getName() == null) {
            throw new IllegalArgumentException("the Abnormal has no metadata.name");
        }
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
        String topic = topics.abnormalRequests().name();
        byte[] key = topics.abnormalRequests().keySerde().serializer().serialize(topic, request.getNodeName());
        byte[] value = topics.abnormals().valueSerde().serializer().serialize(topic, request);
        try {
            SendAndWait.send(producer(), new ProducerRecord<>(topic, key, value), SEND_TIMEOUT);
        } catch (ExecutionException e) {
            throw new KdiagException("cannot publish to " + topic + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new KdiagException("Kafka did not acknowledge the record on " + topic + " within " + SEND_TIMEOUT.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KdiagException("interrupted while publishing to " + topic, e);
        }
        LOG.info("abnormal published uid={} namespace={} name={} node={}", uid, namespace, request.getName(), request.getNodeName());
        return uid;
    }

    /**
     * Approves or denies the recovery of an abnormal that waits for approval: writes an {@link ApprovalDecision} to the
     * approvals topic, keyed by the abnormal's node and signed with the approver's key. The node's agent verifies the
     * signature against its approvers' keys ({@code kdiag.approver-keys}) and takes who decided from the key that
     * verifies, so the decision counts only if {@code approverKey} is an approver's. Returns once the broker acknowledged
     * the record; the abnormal's status then shows the decision ({@code RecoveryApproved}) within a moment.
     *
     * @param waiting the abnormal's status while it waits: its {@code RecoveryApproved} condition is {@code Unknown}, and
     *     its last event is the {@code ApprovalRequested} the decision answers
     * @param reason why, for whoever reads the status; may be {@code null}
     * @throws IllegalStateException when the status shows no wait for approval (none was asked, or it was decided)
     * @throws KdiagException when Kafka did not acknowledge the record within 30 s (or refused it: no right to write it)
     */
    public void decide(AbnormalStatus waiting, boolean approved, String reason, SigningKey approverKey) {
        Objects.requireNonNull(approverKey, "approverKey");
        ApprovalDecision decision = ApprovalDecisions.answer(waiting, approved, reason, null, Instant.now());
        Topic<String, ApprovalDecision> approvals = topics.approvals();
        try {
            SendAndWait.send(producer(), SignedDecisions.record(approvals, waiting.getNodeName(), decision, approverKey), SEND_TIMEOUT);
        } catch (ExecutionException e) {
            throw new KdiagException("cannot write to " + approvals.name() + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new KdiagException("Kafka did not acknowledge the decision on " + approvals.name() + " within " + SEND_TIMEOUT.toSeconds()
                    + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KdiagException("interrupted while writing to " + approvals.name(), e);
        }
        LOG.info("approval decided uid={} namespace={} name={} approved={} key={}", waiting.getUid(), waiting.getNamespace(),
                waiting.getName(), approved, approverKey.keyId());
    }

    /** Whether the abnormal of this status waits for a person's approval now: its {@code RecoveryApproved} condition is {@code Unknown}. */
    public static boolean waitsForApproval(AbnormalStatus status) {
        return StatusFold.waitsForApproval(status);
    }

    /**
     * Creates the Abnormal custom resource through the API server; the source bridge picks it up from there. The
     * abnormal runs under the uid the API server gives the resource ({@code metadata.uid} of the result).
     *
     * @param abnormal the resource; namespace defaults to the Kubernetes client's namespace, else {@code default}
     * @return the resource as created
     * @throws IllegalStateException when the client was built without a Kubernetes client
     * @throws io.fabric8.kubernetes.client.KubernetesClientException when the API server refuses it
     */
    public Abnormal create(Abnormal abnormal) {
        KubernetesClient client = requireKubernetes();
        String namespace = Optional.ofNullable(abnormal.getMetadata().getNamespace())
                .or(() -> Optional.ofNullable(client.getNamespace())).orElse("default");
        Abnormal created = client.resources(Abnormal.class).inNamespace(namespace).resource(abnormal).create();
        LOG.info("abnormal created uid={} namespace={} name={}", created.getMetadata().getUid(), namespace,
                created.getMetadata().getName());
        return created;
    }

    /**
     * Waits until the abnormal's status is final ({@code Succeeded} or {@code Failed}).
     *
     * @return the final status, or empty when the timeout passed first
     */
    public Optional<AbnormalStatus> awaitFinalStatus(String uid, Duration timeout) {
        return awaitFinalStatus(uid, timeout, s -> { });
    }

    /**
     * Waits until the abnormal's status is final, calling {@code onSnapshot} with every snapshot on the way
     * (including the ones already on the topic), in the order the status writer published them.
     *
     * @return the final status, or empty when the timeout passed first
     */
    public Optional<AbnormalStatus> awaitFinalStatus(String uid, Duration timeout, Consumer<AbnormalStatus> onSnapshot) {
        Objects.requireNonNull(uid, "uid");
        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            String topic = topics.abnormalStatus().name();
            // the status topic is keyed by uid with Kafka's default partitioner
            TopicPartition partition = new TopicPartition(topic, Topics.partitionFor(uid, partitions(consumer, topic).size()));
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
                    if (!uid.equals(record.key())) {
                        continue;
                    }
                    AbnormalStatus status = decode(topics.abnormalStatus(), record);
                    if (status != null) {
                        onSnapshot.accept(status);
                        if (Phases.isFinal(status.getPhase())) {
                            return Optional.of(status);
                        }
                    }
                }
            }
            return Optional.empty();
        }
    }

    /**
     * Waits for a status that matches: the newest matching status already on the status topic (by start time), else
     * the first matching one that appears within the timeout. Finds an abnormal by name, for instance:
     * {@code awaitStatus(s -> s.getName().equals("disk-full"), Duration.ofMinutes(1))}.
     *
     * @return the status, or empty when none matched within the timeout
     */
    public Optional<AbnormalStatus> awaitStatus(Predicate<AbnormalStatus> match, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            Map<String, AbnormalStatus> latest = readToEnd(consumer, topics.abnormalStatus().name());
            Optional<AbnormalStatus> existing = latest.values().stream().filter(match)
                    .max(Comparator.comparing((AbnormalStatus s) -> s.getStartTime() == null ? Instant.EPOCH : s.getStartTime())
                            .thenComparing(AbnormalStatus::getUpdatedAt));
            if (existing.isPresent()) {
                return existing;
            }
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
                    AbnormalStatus status = decode(topics.abnormalStatus(), record);
                    if (status != null && match.test(status)) {
                        return Optional.of(status);
                    }
                }
            }
            return Optional.empty();
        }
    }

    /** The latest status of every abnormal on the (compacted) status topic, by uid. */
    public Map<String, AbnormalStatus> statuses() {
        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            return readToEnd(consumer, topics.abnormalStatus().name());
        }
    }

    /**
     * The requests with this namespace and name the bridge forwarded to the node agents ({@code kdiag.abnormals}), oldest
     * first. An abnormal that is forwarded but has no status yet waits for the agent of its node: this says which node.
     */
    public List<AbnormalRequest> forwarded(String namespace, String name) {
        List<AbnormalRequest> found = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            String topic = topics.abnormals().name();
            List<TopicPartition> partitions = partitions(consumer, topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            scanToEnd(consumer, partitions, record -> {
                AbnormalRequest request = decode(topics.abnormals(), record);
                if (request != null && request.getNamespace().equals(namespace) && request.getName().equals(name)) {
                    found.add(request);
                }
            });
        }
        found.sort(Comparator.comparing(AbnormalRequest::getRequestedAt));
        return found;
    }

    /**
     * A context value the agent kept on the evidence topic because it was too large for its event, as the reference the
     * context holds in its place names it ({@link Evidence.Reference#fromContextValue}): the value's JSON, checked
     * chunk by chunk against the reference's key, place, size and SHA-256.
     *
     * @throws IOException if it cannot be read back (past the topic's retention, another topic) or does not match
     */
    public byte[] evidence(Evidence.Reference reference) throws IOException {
        return new Evidence.Reader(kafka, topics.evidence().name(), EVIDENCE_TIMEOUT).readAll(reference);
    }

    /**
     * Every recorded event of one abnormal, in seq order, read from all partitions of {@code kdiag.diagnosis-events}.
     * A seq recorded twice (an agent restart can do that) is given once, as the status writer folds it: first copy wins.
     */
    public List<DiagnosisEvent> history(String uid) {
        return history(uid, null);
    }

    /**
     * Every recorded event of one abnormal, in seq order; with its node known, only that node's partition is read.
     *
     * @param nodeName the node the abnormal ran on, or {@code null} to read every partition
     */
    public List<DiagnosisEvent> history(String uid, String nodeName) {
        Objects.requireNonNull(uid, "uid");
        TreeMap<Long, DiagnosisEvent> bySeq = new TreeMap<>();
        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            List<TopicPartition> partitions = eventPartitions(consumer, nodeName);
            scanToEnd(consumer, partitions, record -> {
                if (nodeName != null && !nodeName.equals(record.key())) {
                    return;
                }
                DiagnosisEvent event = decode(topics.diagnosisEvents(), record);
                if (event != null && uid.equals(event.getAbnormalUid())) {
                    bySeq.putIfAbsent(event.getSeq(), event);
                }
            });
        }
        return new ArrayList<>(bySeq.values());
    }

    /**
     * Calls {@code action} with every event recorded so far, of every abnormal, in each partition's order (so each
     * abnormal's events arrive in the order they were written). Events written after the call started are not included.
     * Replay and re-diagnosis read the whole history this way.
     */
    public void forEachEvent(Consumer<DiagnosisEvent> action) {
        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            scanToEnd(consumer, eventPartitions(consumer, null), record -> {
                DiagnosisEvent event = decode(topics.diagnosisEvents(), record);
                if (event != null) {
                    action.accept(event);
                }
            });
        }
    }

    /**
     * Follows one abnormal's events live, from its first: {@code listener} gets every event already recorded, then each
     * new one as it is written, once per seq and in seq order, on a thread of the watch. Close the watch to stop.
     */
    public EventWatch watch(String uid, Consumer<DiagnosisEvent> listener) {
        return watch(uid, null, listener);
    }

    /**
     * Like {@link #watch(String, Consumer)}; with the node known, only that node's partition is read.
     *
     * @param nodeName the node the abnormal runs on, or {@code null} to read every partition
     */
    public EventWatch watch(String uid, String nodeName, Consumer<DiagnosisEvent> listener) {
        Objects.requireNonNull(uid, "uid");
        Objects.requireNonNull(listener, "listener");
        KafkaConsumer<String, byte[]> consumer = consumer();
        try {
            List<TopicPartition> partitions = eventPartitions(consumer, nodeName);
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
        } catch (RuntimeException e) {
            consumer.close();
            throw e;
        }
        return EventWatch.start(uid, consumer, record -> {
            if (nodeName != null && !nodeName.equals(record.key())) {
                return null;
            }
            return decode(topics.diagnosisEvents(), record);
        }, listener);
    }

    private KubernetesClient requireKubernetes() {
        if (kubernetes == null) {
            throw new IllegalStateException("this KdiagClient has no Kubernetes client: give one to the builder");
        }
        return kubernetes;
    }

    private synchronized KafkaProducer<byte[], byte[]> producer() {
        if (producer == null) {
            Map<String, Object> config = new HashMap<>(kafka);
            config.put(ProducerConfig.ACKS_CONFIG, "all");
            config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            producer = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
        }
        return producer;
    }

    private KafkaConsumer<String, byte[]> consumer() {
        Map<String, Object> config = new HashMap<>(kafka);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // reading must never create a topic: a wrong prefix or an uninstalled pipeline is an error, not an empty topic
        config.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        return new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
    }

    private static List<PartitionInfo> partitions(KafkaConsumer<?, ?> consumer, String topic) {
        List<PartitionInfo> partitions = consumer.partitionsFor(topic);
        if (partitions == null || partitions.isEmpty()) {
            throw new KdiagException("topic " + topic + " does not exist (is the pipeline installed, and is the topic prefix right?)", null);
        }
        return partitions;
    }

    private List<TopicPartition> eventPartitions(KafkaConsumer<?, ?> consumer, String nodeName) {
        String topic = topics.diagnosisEvents().name();
        List<PartitionInfo> partitions = partitions(consumer, topic);
        if (nodeName != null) {
            return List.of(new TopicPartition(topic, Topics.partitionFor(nodeName, partitions.size())));
        }
        return partitions.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    }

    private Map<String, AbnormalStatus> readToEnd(KafkaConsumer<String, byte[]> consumer, String topic) {
        Map<String, AbnormalStatus> latest = new LinkedHashMap<>();
        List<TopicPartition> partitions = partitions(consumer, topic).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        scanToEnd(consumer, partitions, record -> {
            if (record.value() == null) {
                latest.remove(record.key());
                return;
            }
            AbnormalStatus status = decode(topics.abnormalStatus(), record);
            if (status != null) {
                latest.put(record.key(), status);
            }
        });
        return latest;
    }

    /** Reads the partitions from their beginning to the end they had when called; the consumer stays assigned. */
    private static void scanToEnd(KafkaConsumer<String, byte[]> consumer, List<TopicPartition> partitions,
                                  Consumer<ConsumerRecord<String, byte[]>> action) {
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
            for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
                action.accept(record);
            }
        }
    }

    /**
     * How many records this client skipped since it was built because they could not be decoded (each is logged with
     * its topic, partition, offset and size): a caller that shows what it read can say that something was left out.
     */
    public long unreadableRecords() {
        return unreadable.get();
    }

    /** Decodes a record; one that cannot be read is logged, counted and skipped, so one bad record never hides the rest. */
    private <T> T decode(Topic<String, T> topic, ConsumerRecord<String, byte[]> record) {
        if (record.value() == null) {
            return null;
        }
        try {
            return topic.valueSerde().deserializer().deserialize(record.topic(), record.value());
        } catch (RuntimeException e) {
            unreadable.incrementAndGet();
            LOG.warn("unreadable record skipped topic={} partition={} offset={} bytes={} reason={}", record.topic(),
                    record.partition(), record.offset(), record.value().length, e.getMessage());
            return null;
        }
    }

    /** Closes the producer, if one was opened; a Kubernetes client given to the builder stays open (it is the caller's). */
    @Override
    public synchronized void close() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
            producer = null;
        }
    }

    /** Builds a {@link KdiagClient}. */
    public static final class Builder {
        private final Map<String, Object> kafka = new HashMap<>();
        private String topicPrefix = Topics.DEFAULT_PREFIX;
        private KubernetesClient kubernetes;

        private Builder() {
        }

        /** Kafka client settings ({@code bootstrap.servers}, TLS, SASL, ...), added to those given before. */
        public Builder kafka(Map<String, ?> settings) {
            kafka.putAll(settings);
            return this;
        }

        /** Shorthand for the {@code bootstrap.servers} setting. */
        public Builder bootstrapServers(String servers) {
            kafka.put("bootstrap.servers", servers);
            return this;
        }

        /** The prefix of the topic names (default {@code kdiag.}). */
        public Builder topicPrefix(String prefix) {
            topicPrefix = Objects.requireNonNull(prefix, "prefix");
            return this;
        }

        /** The Kubernetes client {@link #create} uses; the caller keeps ownership and closes it. */
        public Builder kubernetes(KubernetesClient client) {
            kubernetes = client;
            return this;
        }

        /**
         * The client.
         *
         * @throws IllegalArgumentException when no bootstrap servers were given
         */
        public KdiagClient build() {
            if (kafka.get("bootstrap.servers") == null) {
                throw new IllegalArgumentException("bootstrap.servers is required");
            }
            return new KdiagClient(this);
        }
    }
}
