package io.kdiag.nodeagent.kafka;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.kdiag.common.health.LoopProgress;
import io.kdiag.common.kafka.KafkaNames;
import io.kdiag.nodeagent.run.AgentMetrics;
import io.kdiag.nodeagent.run.Approvals;
import io.kdiag.nodeagent.run.RequestHandler;
import io.kdiag.schemas.Topic;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.ApprovalDecision;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads this node's partition of {@code kdiag.abnormals} on a thread of its own and hands each of the node's requests
 * to the {@link RequestHandler}, one at a time; between polls it ends the waits of parked abnormals whose deadline
 * passed. An abnormal's offset is committed once it ended or was parked (its wait is on the disk by then), so
 * committing offset N + 1 always means every abnormal up to N ended or waits parked.
 *
 * <p>The same consumer reads this node's partition of {@code kdiag.approvals}: a decision that an approver's key
 * verifies, or a relay's key on behalf of a named person ({@link ApproverKeys}), ends the wait it names; one that none
 * verifies, or that names someone it may not speak for, is dead-lettered and counted
 * ({@code kdiag_agent_approval_decisions_total{result="refused"}}).
 *
 * <p>Only a record the {@link RecordVerifier} accepts is read at all: one that is unsigned, signed by an unknown key,
 * altered, or asks for what its signer cannot vouch for becomes a dead letter with the reason and is counted
 * ({@code kdiag_agent_records_refused_total}); nothing else happens for it, not even an event.
 */
public final class PartitionConsumer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionConsumer.class);
    /**
     * How long a poll waits for records: it returns as soon as one arrives, so this only bounds how often an idle agent
     * wakes up (to tell its liveness it is idle, not stuck: well under any stall timeout).
     * It costs no request: the fetch in flight stays there.
     */
    private static final Duration POLL = Duration.ofSeconds(1);
    /**
     * How long the broker holds a fetch that finds no record (Kafka's default: 500 ms): it answers as soon as a record
     * arrives, so this only sets how often an idle agent's consumers ask, a load the broker carries for every node.
     */
    static final int IDLE_FETCH_WAIT_MS = 5000;
    /** Pause before a record whose events could not be delivered is read again. */
    private static final Duration RETRY_PAUSE = Duration.ofMillis(500);
    private static final Duration PARTITIONS_WAIT = Duration.ofSeconds(60);
    /**
     * How often the position past other nodes' records alone is committed. Every agent of a shared partition reads the
     * records of all its nodes: committing after each poll of them cost the broker one offset commit per ten records
     * per agent (dozens of agents per partition in a large cluster's storm). A crash reads at most this much again, to
     * skip it again.
     */
    private static final long SKIPPED_COMMIT_INTERVAL_NANOS = Duration.ofSeconds(1).toNanos();

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final TopicPartition partition;
    private final Topic<String, AbnormalRequest> abnormals;
    private final Topic<String, ApprovalDecision> decisions;
    private final ApproverKeys approvers;
    private final Approvals approvals;
    private final String nodeName;
    private final byte[] nodeKey;
    private final RecordVerifier verifier;
    private final RequestHandler requests;
    private final AgentProducer producer;
    private final AgentMetrics metrics;
    private final LoopProgress progress;
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private final Thread loop;
    private volatile boolean closing;
    /** Per partition, the offset after the last record handled, and the last one committed; used on the consumer thread only. */
    private final Map<TopicPartition, Long> done = new HashMap<>();
    private final Map<TopicPartition, Long> committed = new HashMap<>();
    /** When {@link #commitDone()} last ran, on the loop's thread. */
    private long lastCommitNanos = System.nanoTime();

    private PartitionConsumer(KafkaConsumer<byte[], byte[]> consumer, TopicPartition partition, Topics topics, String nodeName,
                              RecordVerifier verifier, ApproverKeys approvers, Approvals approvals, RequestHandler requests,
                              AgentProducer producer, AgentMetrics metrics, LoopProgress progress) {
        this.consumer = consumer;
        this.partition = partition;
        this.abnormals = topics.abnormals();
        this.decisions = topics.approvals();
        this.approvers = approvers;
        this.approvals = approvals;
        this.nodeName = nodeName;
        this.nodeKey = nodeName.getBytes(StandardCharsets.UTF_8);
        this.verifier = verifier;
        this.requests = requests;
        this.producer = producer;
        this.metrics = metrics;
        metrics.refusable(Arrays.stream(RecordVerifier.Reason.values()).map(Enum::name).toList());
        this.progress = progress;
        this.loop = new Thread(this::consume, "kdiag-node-agent");
    }

    /**
     * Assigns this node's partitions of the abnormals and approvals topics and starts consuming them from their committed
     * offsets (the earliest when there is none).
     *
     * @param verifier decides which records came from a gate
     * @param approvers decides which decisions came from an approver, and who that is
     * @param approvals what a decision answers
     * @param producer where refused and unreadable records go as dead letters
     * @param progress told of every poll that found nothing and every record done
     * @return the consumer, once consuming has begun
     * @throws IllegalStateException if a topic does not exist
     */
    public static PartitionConsumer start(Map<String, Object> kafka, String nodeName, Topics topics, RecordVerifier verifier,
                                          ApproverKeys approvers, Approvals approvals, RequestHandler requests,
                                          AgentProducer producer, AgentMetrics metrics, LoopProgress progress) {
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(properties(kafka, new KafkaNames(topics.prefix()), nodeName),
                new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        try {
            TopicPartition partition = nodePartition(consumer, topics.abnormals().name(), nodeName);
            TopicPartition decisions = nodePartition(consumer, topics.approvals().name(), nodeName);
            consumer.assign(List.of(partition, decisions));
            // resolves the committed offsets now, so consuming has begun when start returns
            long position = consumer.position(partition, PARTITIONS_WAIT);
            long decisionsPosition = consumer.position(decisions, PARTITIONS_WAIT);
            LOG.info("node agent consuming node={} partition={} offset={} approvals={} approvals-offset={}", nodeName, partition, position,
                    decisions, decisionsPosition);
            PartitionConsumer started = new PartitionConsumer(consumer, partition, topics, nodeName, verifier, approvers, approvals,
                    requests, producer, metrics, progress);
            started.loop.start();
            return started;
        } catch (RuntimeException e) {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
            throw e;
        }
    }

    /** The partition of {@code topic} that records keyed by this node go to. */
    private static TopicPartition nodePartition(KafkaConsumer<byte[], byte[]> consumer, String topic, String nodeName) {
        List<PartitionInfo> partitions = List.of();
        long deadline = System.nanoTime() + PARTITIONS_WAIT.toNanos();
        while (partitions.isEmpty() && System.nanoTime() < deadline) {
            partitions = consumer.partitionsFor(topic, PARTITIONS_WAIT);
        }
        if (partitions.isEmpty()) {
            throw new IllegalStateException("topic " + topic + " does not exist");
        }
        return new TopicPartition(topic, Topics.partitionFor(nodeName, partitions.size()));
    }

    /** The consumer's settings: the user's Kafka settings, with the node's group, manual commits and committed reads. */
    static Map<String, Object> properties(Map<String, Object> kafka, KafkaNames names, String nodeName) {
        Map<String, Object> props = new HashMap<>(kafka);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, names.agentGroup(nodeName));
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "kdiag-node-agent-" + nodeName);
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10);
        props.putIfAbsent(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, IDLE_FETCH_WAIT_MS);
        return props;
    }

    /** Whether it is still consuming: not closed, and its thread did not stop. */
    public boolean consuming() {
        return !closing && loop.isAlive();
    }

    /** Completes when the loop ended: normally after {@link #close()}, exceptionally when it failed on its own. */
    public CompletableFuture<Void> stopped() {
        return stopped;
    }

    private void consume() {
        Throwable failure = null;
        try {
            while (!closing) {
                requests.endExpired(Instant.now());
                requests.answerBudgets();
                ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
                updateLag();
                if (records.isEmpty()) {
                    progress.progressed();
                }
                // a poll may hold records of both partitions (abnormals, decisions): where each one's unhandled records start
                Map<TopicPartition, Long> unhandled = new HashMap<>();
                for (TopicPartition polled : records.partitions()) {
                    unhandled.put(polled, records.records(polled).get(0).offset());
                }
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    boolean handled = handle(record);
                    updateLag();
                    if (!handled) {
                        // the events could not be delivered; read this record, and every later one of the poll, again after a pause
                        unhandled.forEach(consumer::seek);
                        TimeUnit.MILLISECONDS.sleep(RETRY_PAUSE.toMillis());
                        break;
                    }
                    unhandled.put(new TopicPartition(record.topic(), record.partition()), record.offset() + 1);
                }
                if (System.nanoTime() - lastCommitNanos >= SKIPPED_COMMIT_INTERVAL_NANOS) {
                    commitDone();
                }
            }
        } catch (WakeupException | InterruptException | InterruptedException e) {
            // closing
        } catch (RuntimeException | Error e) {
            // not a record's fault (each is dead-lettered on a defect): Kafka refused us, or the JVM is in trouble
            LOG.error("node agent stopped consuming node={}", nodeName, e);
            failure = e;
        } finally {
            // an interrupt meant "stop now"; it must not also break the last commit or the consumer's close
            Thread.interrupted();
            commitLast();
            try {
                consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
            } catch (InterruptException e) {
                // close() stopped waiting for this thread and interrupted it again; the consumer is closed all the same
                LOG.debug("consumer closed while interrupted node={}", nodeName);
            }
            if (failure == null && closing) {
                stopped.complete(null);
            } else {
                stopped.completeExceptionally(failure != null ? failure : new IllegalStateException("the consumer loop ended"));
            }
        }
    }

    private void updateLag() {
        consumer.currentLag(partition).ifPresent(metrics::partitionLag);
    }

    /** Handles one record; {@code false} when its events could not be delivered and it must be read again. */
    private boolean handle(ConsumerRecord<byte[], byte[]> record) throws InterruptedException {
        if (record.topic().equals(decisions.name())) {
            return decide(record);
        }
        if (!Arrays.equals(nodeKey, record.key())) {
            LOG.debug("abnormal skipped node={} offset={} reason={}", nodeName, record.offset(), "OtherNode");
            markDone(record);
            return true;
        }
        if (record.value() == null) {
            // a tombstone deletes nothing here and runs nothing; there is nothing to copy either
            LOG.warn("record skipped node={} offset={} reason={}", nodeName, record.offset(), "Tombstone");
            metrics.unrunnable(AgentMetrics.TOMBSTONE);
            markDone(record);
            return true;
        }
        AbnormalRequest request;
        try {
            RecordVerifier.Signer signer = verifier.signer(record);
            try {
                request = abnormals.valueSerde().deserializer().deserialize(record.topic(), record.value());
            } catch (SerializationException e) {
                // signed by a gate, yet no request: a defect of the writer, not a forgery
                return refuse(record, AgentMetrics.UNDECODABLE, e.getMessage());
            }
            RecordVerifier.checkRequest(signer, request, nodeName);
        } catch (RecordVerifier.Untrusted e) {
            return deadLetter(record, e.getMessage(), () -> metrics.refused(e.reason().name()));
        }
        String unrunnable = RequestHandler.unrunnable(request);
        if (unrunnable != null) {
            return refuse(record, AgentMetrics.INVALID, unrunnable);
        }
        boolean handled;
        try {
            handled = requests.handle(request);
        } catch (RuntimeException e) {
            // a defect (the handler already ends an abnormal that failed while running) must not stop this node's agent
            LOG.error("abnormal not handled on an agent defect node={} offset={} uid={}", nodeName, record.offset(), request.getUid(), e);
            return refuse(record, AgentMetrics.AGENT_ERROR, "the agent failed on this record: " + e);
        }
        if (!handled) {
            return false;
        }
        markDone(record);
        // an abnormal ran: commit now rather than at the end of the batch
        commitDone();
        return true;
    }

    /** Handles a decision of the approvals topic; {@code false} when its events could not be delivered and it must be read again. */
    private boolean decide(ConsumerRecord<byte[], byte[]> record) throws InterruptedException {
        if (!Arrays.equals(nodeKey, record.key()) || record.value() == null) {
            // another node's decision on a shared partition; a tombstone decides nothing
            markDone(record);
            return true;
        }
        ApproverKeys.Signer signer;
        try {
            signer = approvers.signer(record);
        } catch (RecordVerifier.Untrusted e) {
            return deadLetter(record, e.getMessage(), () -> metrics.decision(AgentMetrics.REFUSED, e.reason().name()));
        }
        ApprovalDecision decision;
        try {
            decision = decisions.valueSerde().deserializer().deserialize(record.topic(), record.value());
        } catch (SerializationException e) {
            return deadLetter(record, "the key of " + signer.name() + " signed a record that is no decision: " + e.getMessage(),
                    () -> metrics.decision(AgentMetrics.REFUSED, "Undecodable"));
        }
        String approver;
        try {
            approver = signer.decidedBy(decision);
        } catch (ApproverKeys.Refused e) {
            return deadLetter(record, e.getMessage(), () -> metrics.decision(AgentMetrics.REFUSED, e.refusal().name()));
        }
        LOG.info("approval decision uid={} node={} approved={} decided-by={} request-seq={} offset={}", decision.getAbnormalUid(),
                nodeName, decision.getApproved(), approver, decision.getRequestSeq(), record.offset());
        boolean handled = requests.answer(decision.getAbnormalUid(), Approvals.GATE, decision.getRequestSeq(),
                parked -> approvals.decided(parked, decision.getApproved(), approver, decision.getReason()));
        if (!handled) {
            return false;
        }
        metrics.decision(decision.getApproved() ? AgentMetrics.APPROVED : AgentMetrics.DENIED, AgentMetrics.NO_REASON);
        markDone(record);
        commitDone();
        return true;
    }

    /**
     * Dead-letters a record that runs nothing, counts it, and moves past it; {@code false} (read it again) when its dead
     * letter could not be delivered.
     */
    private boolean refuse(ConsumerRecord<byte[], byte[]> record, String reason, String message) throws InterruptedException {
        return deadLetter(record, message, () -> metrics.unrunnable(reason));
    }

    /** Dead-letters a record, then counts it as {@code count} says and moves past it; {@code false} as {@link #refuse}. */
    private boolean deadLetter(ConsumerRecord<byte[], byte[]> record, String message, Runnable count) throws InterruptedException {
        if (!producer.deadLetter(record, message)) {
            return false;
        }
        count.run();
        markDone(record);
        // at once, like an abnormal that ran: a crash would dead-letter it a second time
        commitDone();
        return true;
    }

    /** Notes that everything up to this record is done; {@link #commitDone()} commits it. */
    private void markDone(ConsumerRecord<byte[], byte[]> record) {
        done.put(new TopicPartition(record.topic(), record.partition()), record.offset() + 1);
        progress.progressed();
    }

    /**
     * Commits the offset after the last record done, if it moved, without waiting for the broker: the journal already
     * keeps a finished abnormal from running again, so a commit lost in a crash only makes the agent skip the record
     * as a duplicate. A failed commit is made good by the next one, or by {@link #commitLast()}. Records of other
     * nodes are only marked, and committed with the next record of this node or after a pause.
     */
    private void commitDone() {
        Map<TopicPartition, OffsetAndMetadata> moved = new HashMap<>();
        done.forEach((p, offset) -> {
            if (offset > committed.getOrDefault(p, -1L)) {
                moved.put(p, new OffsetAndMetadata(offset));
            }
        });
        if (!moved.isEmpty()) {
            consumer.commitAsync(moved, (offsets, error) -> {
                if (error != null) {
                    LOG.warn("offset not committed node={} offsets={} reason={}", nodeName, offsets, error.toString());
                }
            });
            committed.putAll(done);
        }
        lastCommitNanos = System.nanoTime();
    }

    /** On the way out: commits the offset after the last record done and waits for it, so a restart reads nothing twice. */
    private void commitLast() {
        if (done.isEmpty()) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> last = new HashMap<>();
        done.forEach((p, offset) -> last.put(p, new OffsetAndMetadata(offset)));
        try {
            try {
                consumer.commitSync(last, Duration.ofSeconds(5));
            } catch (WakeupException e) {
                // the wake-up of close() arrived after the last poll; it is spent now
                consumer.commitSync(last, Duration.ofSeconds(5));
            }
        } catch (RuntimeException e) {
            LOG.warn("last offset not committed node={} offsets={} reason={}", nodeName, done, e.toString());
        }
    }

    /** Stops consuming: an abnormal in the middle is interrupted, and ended at the next start. */
    @Override
    public void close() {
        closing = true;
        consumer.wakeup();
        try {
            loop.join(TimeUnit.SECONDS.toMillis(2));
            // still busy with an abnormal: interrupt it; the next start ends it with AbnormalFailed
            loop.interrupt();
            loop.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
