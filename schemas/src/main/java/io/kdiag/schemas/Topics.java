package io.kdiag.schemas;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.ApprovalDecision;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.RecoveryBudgetAnswer;
import io.kdiag.schemas.avro.RecoveryBudgetRequest;
import io.kdiag.schemas.avro.RecoveryControl;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Utils;

/**
 * The topic catalogue: every topic of the pipeline, with its key and value serdes. Names carry a configurable prefix
 * (default {@code kdiag.}) so several installations can share one Kafka cluster.
 *
 * <pre>
 * abnormal-requests  node name (optional) → AbnormalRequest (Avro or JSON)  open ingest, read by the bridge
 * abnormals          node name            → AbnormalRequest                 written only by the bridge
 * diagnosis-events   node name            → DiagnosisEvent                  the history; long retention
 * abnormal-status    abnormal uid         → AbnormalStatus                  compacted snapshots
 * dead-letters       original key         → original bytes                  with source and reason headers
 * schemas            schema fingerprint   → schema JSON                     compacted; every writer's schemas
 * evidence           value SHA-256        → a chunk of a large value        retention of the history (Evidence)
 * recovery-control   recoveries           → RecoveryControl                 compacted; the kill switch every agent follows
 * recovery-budget-requests  node name     → RecoveryBudgetRequest           one partition: the budget arbiter's input
 * recovery-budget-answers   node name     → RecoveryBudgetAnswer            the arbiter's decisions, read by each node's agent
 * approvals          node name            → ApprovalDecision                signed by an approver; read by that node's agent
 * </pre>
 *
 * <p>A catalogue made with {@link #reading} or {@link #publishing} reads records of any version published to the
 * schemas topic, later ones included; one made with the constructor reads the versions released in this jar.
 */
public final class Topics {
    /** The default topic name prefix. */
    public static final String DEFAULT_PREFIX = "kdiag.";
    /** Default partition count of the node-keyed topics. */
    public static final int DEFAULT_PARTITIONS = 12;
    /** The key of the record on {@link #recoveryControl()} that pauses or resumes every recovery. */
    public static final String RECOVERY_CONTROL_KEY = "recoveries";

    private final String prefix;
    private final Topic<String, byte[]> abnormalRequests;
    private final Topic<String, AbnormalRequest> abnormals;
    private final Topic<String, DiagnosisEvent> diagnosisEvents;
    private final Topic<String, AbnormalStatus> abnormalStatus;
    private final Topic<byte[], byte[]> deadLetters;
    private final Topic<String, String> schemas;
    private final Topic<String, byte[]> evidence;
    private final Topic<String, RecoveryControl> recoveryControl;
    private final Topic<String, RecoveryBudgetRequest> recoveryBudgetRequests;
    private final Topic<String, RecoveryBudgetAnswer> recoveryBudgetAnswers;
    private final Topic<String, ApprovalDecision> approvals;

    /** The catalogue for a prefix, with the default single-object-encoding serdes reading the versions of this jar. */
    public Topics(String prefix) {
        this(prefix, (SchemaStore) null);
    }

    private Topics(String prefix, SchemaStore published) {
        this.prefix = Objects.requireNonNull(prefix, "prefix");
        Serde<String> nodeName = Serdes.String();
        abnormalRequests = new Topic<>(prefix + "abnormal-requests", nodeName, Serdes.ByteArray());
        abnormals = new Topic<>(prefix + "abnormals", nodeName, serde(AbnormalRequest.class, published));
        diagnosisEvents = new Topic<>(prefix + "diagnosis-events", nodeName, serde(DiagnosisEvent.class, published));
        abnormalStatus = new Topic<>(prefix + "abnormal-status", Serdes.String(), serde(AbnormalStatus.class, published));
        deadLetters = new Topic<>(prefix + "dead-letters", Serdes.ByteArray(), Serdes.ByteArray());
        schemas = new Topic<>(prefix + "schemas", Serdes.String(), Serdes.String());
        evidence = new Topic<>(prefix + "evidence", Serdes.String(), Serdes.ByteArray());
        recoveryControl = new Topic<>(prefix + "recovery-control", Serdes.String(), serde(RecoveryControl.class, published));
        recoveryBudgetRequests = new Topic<>(prefix + "recovery-budget-requests", nodeName, serde(RecoveryBudgetRequest.class, published));
        recoveryBudgetAnswers = new Topic<>(prefix + "recovery-budget-answers", nodeName, serde(RecoveryBudgetAnswer.class, published));
        approvals = new Topic<>(prefix + "approvals", nodeName, serde(ApprovalDecision.class, published));
    }

    private static <T extends SpecificRecord> AvroSerde<T> serde(Class<T> type, SchemaStore published) {
        return published == null ? AvroSerde.of(type) : AvroSerde.of(type, published);
    }

    /**
     * The catalogue of a reader: its serdes look up the schemas topic for a fingerprint this jar does not know (at most
     * every {@link SchemaTopicStore#DEFAULT_MIN_REFRESH_INTERVAL}), so they read records of later versions too.
     *
     * @param prefix the topic name prefix
     * @param kafka Kafka client settings, used only when a record of an unknown version arrives
     */
    public static Topics reading(String prefix, Map<String, Object> kafka) {
        return new Topics(prefix, new SchemaTopicStore(kafka, prefix + "schemas"));
    }

    /**
     * The catalogue of a writer: as {@link #reading}, after publishing every schema of this jar to the schemas topic, so
     * that readers of earlier versions can read what it is about to write.
     *
     * @throws IllegalStateException if the schemas topic cannot be read or written
     */
    public static Topics publishing(String prefix, Map<String, Object> kafka) {
        SchemaTopicStore store = new SchemaTopicStore(kafka, prefix + "schemas");
        store.publish(ReleasedSchemas.get().all());
        return new Topics(prefix, store);
    }

    /** The catalogue with the default prefix. */
    public static Topics withDefaultPrefix() {
        return new Topics(DEFAULT_PREFIX);
    }

    /** The prefix every name starts with. */
    public String prefix() {
        return prefix;
    }

    /** Open ingest: any producer may publish AbnormalRequests here, as Avro or JSON; values are raw bytes. */
    public Topic<String, byte[]> abnormalRequests() {
        return abnormalRequests;
    }

    /** Validated requests keyed by node, read by the node agents. */
    public Topic<String, AbnormalRequest> abnormals() {
        return abnormals;
    }

    /** Every step of every diagnosis, keyed by node. */
    public Topic<String, DiagnosisEvent> diagnosisEvents() {
        return diagnosisEvents;
    }

    /** Status snapshots keyed by abnormal uid (compacted). */
    public Topic<String, AbnormalStatus> abnormalStatus() {
        return abnormalStatus;
    }

    /** Records that could not be processed, as they were, with headers naming where they came from and why. */
    public Topic<byte[], byte[]> deadLetters() {
        return deadLetters;
    }

    /** Every schema a writer of the pipeline publishes, keyed by fingerprint ({@link SchemaTopicStore#key}); compacted. */
    public Topic<String, String> schemas() {
        return schemas;
    }

    /** Context values too large for their event, in chunks keyed by the value's SHA-256 ({@link Evidence}). */
    public Topic<String, byte[]> evidence() {
        return evidence;
    }

    /**
     * Whether recoveries may run, cluster-wide: one record keyed {@link #RECOVERY_CONTROL_KEY}, the latest wins (compacted).
     * Only the CLI's principal writes it; every agent reads it whole.
     */
    public Topic<String, RecoveryControl> recoveryControl() {
        return recoveryControl;
    }

    /**
     * Agents' requests to run a recoverer under the recovery budgets, and their releases, keyed by node. One partition, so
     * the arbiter sees every request of the installation in one order and decides them one at a time (recoveries are rare).
     */
    public Topic<String, RecoveryBudgetRequest> recoveryBudgetRequests() {
        return recoveryBudgetRequests;
    }

    /** The budget arbiter's answers, keyed by the node that asked; each agent reads its node's partition. */
    public Topic<String, RecoveryBudgetAnswer> recoveryBudgetAnswers() {
        return recoveryBudgetAnswers;
    }

    /**
     * Decisions on recoveries waiting for approval, keyed by the abnormal's node so that they reach its agent's partition.
     * Each is signed by its approver's key ({@code io.kdiag.schemas.signing}); only approvers' principals write it.
     */
    public Topic<String, ApprovalDecision> approvals() {
        return approvals;
    }

    /**
     * The partition of a keyed record on a topic of {@code partitions}: Kafka's default partitioner (murmur2 of the
     * UTF-8 key), which every producer in every language uses, so any of them keying by node reaches that node's agent.
     */
    public static int partitionFor(String key, int partitions) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
    }

    /** Every topic with the settings it is created with. */
    public List<TopicSpec> specs(int nodePartitions) {
        Map<String, String> history = Map.of("cleanup.policy", "delete", "retention.ms", String.valueOf(30L * 24 * 3600 * 1000));
        Map<String, String> budgets = Map.of("cleanup.policy", "delete", "retention.ms", String.valueOf(24L * 3600 * 1000));
        return List.of(
                new TopicSpec(abnormalRequests.name(), nodePartitions, Map.of()),
                new TopicSpec(abnormals.name(), nodePartitions, Map.of()),
                new TopicSpec(diagnosisEvents.name(), nodePartitions, history),
                new TopicSpec(abnormalStatus.name(), nodePartitions, Map.of("cleanup.policy", "compact")),
                new TopicSpec(deadLetters.name(), 1, Map.of()),
                new TopicSpec(schemas.name(), 1, Map.of("cleanup.policy", "compact")),
                // as long as the history that references it; never compacted: every chunk of a value has the same key
                new TopicSpec(evidence.name(), nodePartitions, history),
                new TopicSpec(recoveryControl.name(), 1, Map.of("cleanup.policy", "compact")),
                // a request is decided within seconds of being written, an answer read as soon as it is written: a day is plenty
                new TopicSpec(recoveryBudgetRequests.name(), 1, budgets),
                new TopicSpec(recoveryBudgetAnswers.name(), nodePartitions, budgets),
                // a decision matters only while its abnormal waits (hours at most); a week leaves it to read after an incident
                new TopicSpec(approvals.name(), nodePartitions,
                        Map.of("cleanup.policy", "delete", "retention.ms", String.valueOf(7L * 24 * 3600 * 1000))));
    }

    /**
     * How a topic is created.
     *
     * @param name full topic name
     * @param partitions partition count
     * @param config topic-level configuration
     */
    public record TopicSpec(String name, int partitions, Map<String, String> config) {
    }
}
