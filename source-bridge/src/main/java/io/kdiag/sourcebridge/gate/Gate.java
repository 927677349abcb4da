package io.kdiag.sourcebridge.gate;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

import io.kdiag.common.health.Health;
import io.kdiag.common.health.LoopProgress;
import io.kdiag.common.kafka.KafkaNames;
import io.kdiag.schemas.DeadLetters;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.signing.SigningKey;
import io.kdiag.sourcebridge.request.IngestDecoder;
import io.kdiag.sourcebridge.request.Refusal;
import io.kdiag.sourcebridge.request.RequestValidator;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.CloseOptions.GroupMembershipOperation;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single path into {@code kdiag.abnormals}: one transactional producer, on one thread, for every source. Each
 * transaction holds the forwarded requests, the dead letters of refused ingest records, the consumed ingest offsets and
 * the dedup entries written to the state topic, so a crash at any point forwards each abnormal once: what committed is
 * remembered, what did not is read or submitted again.
 *
 * <p>Every request passes the {@link RequestValidator}, then the {@link Admission}: a uid forwarded before is a duplicate,
 * a repeat key forwarded less than the repeat interval ago is suppressed, and automatic sources are held to the storm
 * limits. Sources call {@link #submit} from any thread; the future completes once the transaction holding the verdict
 * committed. Every record written to {@code kdiag.abnormals} is signed with the gate's {@link SigningKey}: agents run
 * nothing that is not.
 */
public final class Gate implements AutoCloseable {
    private static final String INGEST_SOURCE = BridgeMetrics.SOURCE_INGEST;
    private static final Logger LOG = LoggerFactory.getLogger(Gate.class);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration CLOSE = Duration.ofSeconds(10);
    private static final Duration START_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final int MAX_BATCH = 500;
    /** Session of a bridge replica in the ingest group (Kafka's default: 45 s). */
    private static final int SESSION_TIMEOUT_MS = 10_000;
    /** Longest pause between attempts at a transaction that keeps aborting (the broker is away, say). */
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    private final Topics topics;
    private final Producer<byte[], byte[]> producer;
    private final org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer;
    private final BridgeState state;
    private final StormLedger ledger;
    private final Admission admission;
    private final SigningKey signer;
    private final Consumer<AbnormalRequest> mirror;
    private final MeterRegistry registry;
    private final Clock clock;
    private final int maxRecordBytes;
    /**
     * Ingest records (by position) and submissions that Kafka refused for their size, with how often: each refusal
     * makes the next attempt write less of them, down to a bare dead letter, so the batch behind them moves on.
     */
    private final Map<Object, Integer> oversized = new HashMap<>();
    private final IngestDecoder decoder = new IngestDecoder();
    private final RequestValidator validator = new RequestValidator();
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final CompletableFuture<Void> consuming = new CompletableFuture<>();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private final LoopProgress progress;
    private final Thread thread;
    private volatile boolean running = true;

    private Gate(Topics topics, Producer<byte[], byte[]> producer, org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer,
            BridgeState state, StormLedger ledger, StormLimiter storm, GateOptions options, SigningKey signer,
            Consumer<AbnormalRequest> mirror, MeterRegistry registry, Clock clock, int maxRecordBytes) {
        this.topics = topics;
        this.producer = producer;
        this.consumer = consumer;
        this.state = state;
        this.ledger = ledger;
        this.admission = new Admission(state::lastForwarded, storm, options.repeatInterval());
        this.signer = signer;
        this.mirror = mirror;
        this.registry = registry;
        this.clock = clock;
        this.maxRecordBytes = maxRecordBytes;
        this.progress = new LoopProgress("the gate's transaction loop", options.stallTimeout());
        this.thread = new Thread(this::run, "kdiag-gate");
        BridgeMetrics.registerBaseline(registry);
    }

    /**
     * Opens the transactional producer, loads the bridge state, and starts the gate thread; with an {@code ingest} group
     * it also consumes the open ingest topic, and returns once it has its first partition assignment.
     *
     * @param topics the topic catalogue
     * @param kafka Kafka client settings; transaction, group and serializer settings are the gate's own
     * @param transactionalId unique per running instance (the bridge replica, or the node for a log source)
     * @param ingest how to consume {@code abnormal-requests}, or {@code null} not to
     * @param options dedup and storm settings
     * @param signer signs every record written to {@code kdiag.abnormals}
     * @param mirror called on the gate thread with each committed request that asked for a CR; must not block
     * @param registry where the counters go
     * @throws IllegalStateException if Kafka could not be reached within two minutes
     */
    public static Gate start(Topics topics, Map<String, Object> kafka, String transactionalId, IngestGroup ingest, GateOptions options,
            SigningKey signer, Consumer<AbnormalRequest> mirror, MeterRegistry registry) {
        Map<String, Object> producerSettings = new HashMap<>(kafka);
        producerSettings.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        producerSettings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerSettings, new ByteArraySerializer(), new ByteArraySerializer());
        KafkaConsumer<byte[], byte[]> consumer = null;
        StormLedger ledger = null;
        Gate gate;
        try {
            // fences a previous instance and aborts its open transaction, so the state read next is complete
            producer.initTransactions();
            KafkaNames names = new KafkaNames(topics.prefix());
            BridgeState state = BridgeState.load(kafka, names.bridgeStateTopic(), options.stateScope(), options.replicationFactor());
            Clock clock = Clock.systemUTC();
            StormLimiter storm = new StormLimiter(options.stormPerNodePerMinute(), options.stormClusterPerMinute(), clock::millis);
            ledger = StormLedger.open(kafka, names.stormLedgerTopic(), options.replicationFactor(), storm, clock.millis());
            if (ingest != null) {
                Map<String, Object> consumerSettings = new HashMap<>(kafka);
                consumerSettings.put(ConsumerConfig.GROUP_ID_CONFIG, ingest.group());
                // static membership: a replica restarted under its name gets its partitions back at once, instead of after
                // the session of its previous life ran out
                consumerSettings.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, ingest.instanceId());
                // a replica that does not come back hands its partitions over after this; heartbeats have a thread of
                // their own, so only a dead process misses them
                consumerSettings.putIfAbsent(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, SESSION_TIMEOUT_MS);
                consumerSettings.putIfAbsent(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, SESSION_TIMEOUT_MS / 4);
                consumerSettings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
                consumerSettings.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
                // a request published before the bridge's first start is still a request
                consumerSettings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
                consumer = new KafkaConsumer<>(consumerSettings, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            }
            gate = new Gate(topics, producer, consumer, state, ledger, storm, options, signer, mirror, registry, clock,
                    DeadLetters.maxRecordBytes(producerSettings));
        } catch (RuntimeException e) {
            if (consumer != null) {
                consumer.close();
            }
            if (ledger != null) {
                ledger.close();
            }
            producer.close(CLOSE);
            throw e;
        }
        gate.thread.start();
        try {
            gate.consuming.get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return gate;
        } catch (ExecutionException e) {
            gate.close();
            throw new IllegalStateException("the gate could not start: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            gate.close();
            throw new IllegalStateException("the gate got no partitions of " + topics.abnormalRequests().name()
                    + " within " + START_TIMEOUT.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            gate.close();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the gate", e);
        }
    }

    /**
     * How the gate reads the ingest topic.
     *
     * @param group the consumer group every replica shares
     * @param instanceId this replica's static member id, unique in the group
     */
    public record IngestGroup(String group, String instanceId) {
    }

    /** Queues a submission; the future completes with its verdict once committed, or exceptionally if the gate stopped. */
    public CompletableFuture<Verdict> submit(Submission submission) {
        Pending pending = new Pending(submission, new CompletableFuture<>());
        if (!running) {
            pending.verdict.completeExceptionally(new IllegalStateException("the gate is stopped"));
            return pending.verdict;
        }
        queue.add(pending);
        return pending.verdict;
    }

    /**
     * Whether the gate is alive: its thread runs, and its loop committed a transaction or found nothing to do within the
     * stall timeout. A loop that keeps aborting the same transaction, or blocks, is not.
     */
    public Health.Check liveness() {
        return () -> {
            if (stopped.isDone()) {
                return Optional.of("the gate stopped" + (stopped.isCompletedExceptionally() ? " on an error" : ""));
            }
            return progress.problem();
        };
    }

    /** Completes when the gate thread ended: normally after {@link #close()}, exceptionally on a fatal error. */
    public CompletableFuture<Void> stopped() {
        return stopped;
    }

    /** Stops after the transaction in hand and closes the Kafka clients. */
    @Override
    public void close() {
        running = false;
        if (consumer != null) {
            consumer.wakeup();
        }
        if (thread.isAlive() && thread != Thread.currentThread()) {
            try {
                thread.join(STOP_TIMEOUT.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void run() {
        Throwable failure = null;
        try {
            if (consumer != null) {
                consumer.subscribe(List.of(topics.abnormalRequests().name()), new ConsumerRebalanceListener() {
                    @Override
                    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                        // nothing pending: every batch is committed before the next poll
                    }

                    @Override
                    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                        LOG.info("reading {} partition(s) of {}", partitions.size(), topics.abnormalRequests().name());
                        consuming.complete(null);
                    }
                });
            } else {
                consuming.complete(null);
            }
            List<Pending> retry = new ArrayList<>();
            int aborts = 0;
            boolean isolating = false;
            while (running) {
                // the other gates' starts, without waiting: reading the ledger to its end before taking tokens stays short
                ledger.catchUp();
                List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
                if (consumer != null) {
                    consumer.poll(POLL).forEach(records::add);
                }
                List<Pending> batch = retry;
                if (consumer == null && batch.isEmpty()) {
                    Pending first = queue.poll(POLL.toMillis(), TimeUnit.MILLISECONDS);
                    if (first != null) {
                        batch.add(first);
                    }
                }
                queue.drainTo(batch, MAX_BATCH);
                retry = new ArrayList<>();
                if (records.isEmpty() && batch.isEmpty()) {
                    progress.progressed();
                } else {
                    if (batch.stream().anyMatch(p -> p.submission.stormLimited())) {
                        // every start another gate committed until now counts before this one takes tokens
                        ledger.readToEnd();
                    }
                    Outcome outcome = isolating ? transactOneByOne(records, batch) : transact(records, batch);
                    isolating = outcome == Outcome.REFUSED_FOR_SIZE;
                    if (outcome == Outcome.COMMITTED) {
                        aborts = 0;
                    } else {
                        retry = batch;
                        aborts++;
                        if (outcome == Outcome.ABORTED) {
                            backOff(aborts);
                        }
                    }
                }
            }
        } catch (WakeupException e) {
            if (running) {
                failure = e;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            failure = e;
        } finally {
            running = false;
            if (consumer != null) {
                // a stop, not a crash: the partitions go to another replica now rather than after the session timeout
                closeQuietly(() -> consumer.close(CloseOptions.groupMembershipOperation(GroupMembershipOperation.LEAVE_GROUP)
                        .withTimeout(CLOSE)), "consumer");
            }
            closeQuietly(() -> producer.close(CLOSE), "producer");
            closeQuietly(ledger::close, "storm ledger consumer");
            List<Pending> left = new ArrayList<>();
            queue.drainTo(left);
            IllegalStateException gone = new IllegalStateException("the gate stopped before this submission was handled");
            left.forEach(p -> p.verdict.completeExceptionally(gone));
            if (failure == null) {
                LOG.info("gate stopped");
                stopped.complete(null);
            } else {
                LOG.error("gate failed and stopped: {}", failure.toString(), failure);
                consuming.completeExceptionally(failure);
                stopped.completeExceptionally(failure);
            }
        }
    }

    /**
     * After the {@code aborts}-th abort in a row: a pause growing from 100 ms to {@link #MAX_BACKOFF}, so a broker that
     * is away is not hammered, and a refusal that no retry can mend is at least not retried at full speed.
     */
    private static void backOff(int aborts) throws InterruptedException {
        long pause = Math.min(MAX_BACKOFF.toMillis(), 100L << Math.min(aborts - 1, 10));
        TimeUnit.MILLISECONDS.sleep(pause);
    }

    /**
     * After a transaction was refused for a record's size, the same records one per transaction: in a transaction of one
     * record or submission, a size refusal can only be its own (in a larger one, Kafka fails the records it had not yet
     * sent with the same error). A refused one is tried again at once with less of it written, until it passes.
     */
    private Outcome transactOneByOne(List<ConsumerRecord<byte[], byte[]>> records, List<Pending> batch) {
        List<ConsumerRecord<byte[], byte[]>> left = new ArrayList<>(records);
        while (!left.isEmpty()) {
            Outcome outcome = transact(left.subList(0, 1), List.of());
            if (outcome == Outcome.ABORTED) {
                rewind(left);
                return outcome;
            }
            if (outcome == Outcome.COMMITTED) {
                left.remove(0);
            }
        }
        for (Pending pending : batch) {
            Outcome outcome;
            do {
                outcome = transact(List.of(), List.of(pending));
            } while (outcome == Outcome.REFUSED_FOR_SIZE);
            if (outcome == Outcome.ABORTED) {
                // the submissions handled already have their verdicts; the retry list may hold them again harmlessly
                batch.removeIf(p -> p.verdict.isDone());
                return outcome;
            }
        }
        return Outcome.COMMITTED;
    }

    /** How a transaction ended. */
    private enum Outcome {
        COMMITTED,
        /** Aborted; the ingest records are rewound and the submissions are to be tried again. */
        ABORTED,
        /** Aborted because Kafka refused a record for its size: to be tried again one by one. */
        REFUSED_FOR_SIZE
    }

    /** One transaction; on abort the ingest records are rewound and the submissions are to be tried again. */
    private Outcome transact(List<ConsumerRecord<byte[], byte[]>> records, List<Pending> batch) {
        Transaction tx = new Transaction();
        producer.beginTransaction();
        try {
            for (ConsumerRecord<byte[], byte[]> record : records) {
                tx.current = position(record);
                tx.handled.add(tx.current);
                ingest(record, tx);
            }
            for (Pending pending : batch) {
                tx.current = pending;
                tx.handled.add(pending);
                Submission s = pending.submission;
                Verdict verdict;
                try {
                    Integer refusedBefore = oversized.get(pending);
                    if (refusedBefore != null) {
                        throw new Refusal(Refusal.Kind.UNWRITABLE, "Kafka refused the abnormal as too large a record to write");
                    }
                    verdict = pass(s.request(), s.repeatKey(), s.stormLimited(), tx);
                } catch (Refusal refusal) {
                    verdict = Verdict.refused(refusal);
                } catch (RuntimeException e) {
                    LOG.error("cannot process a submission source={} name={}", s.source(), s.request().getName(), e);
                    verdict = Verdict.refused(new Refusal(Refusal.Kind.INTERNAL, "the bridge failed on this abnormal: " + e));
                }
                tx.verdicts.put(pending, verdict);
            }
            if (!records.isEmpty()) {
                producer.sendOffsetsToTransaction(nextOffsets(records), consumer.groupMetadata());
            }
            producer.commitTransaction();
        } catch (ProducerFencedException | OutOfOrderSequenceException | UnsupportedVersionException
                 | AuthorizationException | AuthenticationException e) {
            throw e; // another instance took over, or the cluster refuses us: nothing to retry
        } catch (KafkaException e) {
            LOG.warn("transaction aborted, trying again: {}", e.toString());
            producer.abortTransaction();
            tx.stormTaken.forEach(admission::refund);
            rewind(records);
            return refusedForSize(tx) ? Outcome.REFUSED_FOR_SIZE : Outcome.ABORTED;
        }
        progress.progressed();
        admission.committed();
        // everything below happens only once committed, so a retried batch is neither counted nor mirrored twice
        tx.handled.forEach(oversized::remove);
        state.committed(tx.stateWrites);
        tx.ingestOutcomes.forEach((outcome, n) -> {
            registry.counter(BridgeMetrics.INGEST_RECORDS, "result", outcome.result(), "reason", outcome.reason()).increment(n);
            if ("suppressed".equals(outcome.result())) {
                registry.counter(BridgeMetrics.SUPPRESSED, "source", INGEST_SOURCE, "reason", outcome.reason()).increment(n);
            }
        });
        for (Map.Entry<Pending, Verdict> entry : tx.verdicts.entrySet()) {
            count(entry.getKey().submission.source(), entry.getValue());
            if (entry.getValue().outcome() == Verdict.Outcome.REFUSED) {
                LOG.info("refused source={} name={} reason={} message={}", entry.getKey().submission.source(),
                        entry.getKey().submission.request().getName(), entry.getValue().reason(), entry.getValue().message());
            }
        }
        for (AbnormalRequest request : tx.mirrored) {
            try {
                mirror.accept(request);
            } catch (RuntimeException e) {
                LOG.warn("cannot mirror uid={} as a CR: {}", request.getUid(), e.toString());
            }
        }
        tx.verdicts.forEach((pending, verdict) -> pending.verdict.complete(verdict));
        return Outcome.COMMITTED;
    }

    private void count(String source, Verdict verdict) {
        switch (verdict.outcome()) {
            case FORWARDED -> registry.counter(BridgeMetrics.FORWARDED, "source", source).increment();
            case REFUSED -> registry.counter(BridgeMetrics.REFUSED, "source", source, "reason", verdict.reason()).increment();
            default -> registry.counter(BridgeMetrics.SUPPRESSED, "source", source, "reason", verdict.outcome().suppressionTag()).increment();
        }
    }

    /**
     * Whether Kafka refused a record of an aborted transaction for its size. In a transaction of one ingest record or
     * submission the refused record is known, and the next attempt writes less of it.
     */
    private boolean refusedForSize(Transaction tx) {
        boolean refused = false;
        for (Sent sent : tx.sends) {
            if (sent.future().isDone()) {
                try {
                    sent.future().get();
                } catch (ExecutionException e) {
                    refused |= e.getCause() instanceof RecordTooLargeException || e.getCause() instanceof RecordBatchTooLargeException;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                } catch (RuntimeException e) {
                    // cancelled: not a size refusal
                }
            }
        }
        Set<Object> owners = new HashSet<>();
        tx.sends.forEach(sent -> owners.add(sent.owner()));
        if (refused && owners.size() == 1) {
            Object owner = owners.iterator().next();
            int refusals = oversized.merge(owner, 1, Integer::sum);
            LOG.warn("Kafka refused a record of {} as too large ({} time(s)); writing less of it next", owner, refusals);
        }
        return refused;
    }

    private void send(ProducerRecord<byte[], byte[]> record, Transaction tx) {
        tx.sends.add(new Sent(tx.current, producer.send(record)));
    }

    private static IngestPosition position(ConsumerRecord<byte[], byte[]> record) {
        return new IngestPosition(record.topic(), record.partition(), record.offset());
    }

    /** An ingest record: forwarded (unless a duplicate) or dead-lettered with the reason. */
    private void ingest(ConsumerRecord<byte[], byte[]> record, Transaction tx) {
        IngestDecoder.Position position =
                new IngestDecoder.Position(record.topic(), record.partition(), record.offset(), record.timestamp());
        Refusal refusal;
        int refusedBefore = oversized.getOrDefault(tx.current, 0);
        try {
            if (refusedBefore > 0) {
                throw new Refusal(Refusal.Kind.UNWRITABLE, "Kafka refused the record as too large to forward or to copy whole ("
                        + (record.value() == null ? 0 : record.value().length) + " bytes)");
            }
            AbnormalRequest request = decoder.decode(position, record.key(), record.value());
            Verdict verdict = pass(request, null, false, tx);
            tx.ingestOutcomes.merge(verdict.outcome() == Verdict.Outcome.FORWARDED ? new IngestOutcome("forwarded", "none")
                    : new IngestOutcome("suppressed", verdict.outcome().suppressionTag()), 1, Integer::sum);
            return;
        } catch (Refusal e) {
            refusal = e;
        } catch (RuntimeException e) {
            // a defect here must not turn one record into a poison pill that stops all ingest
            LOG.error("cannot process {}-{}@{}", record.topic(), record.partition(), record.offset(), e);
            refusal = new Refusal(Refusal.Kind.INTERNAL, "the bridge failed on this record: " + e);
        }
        LOG.info("dead-lettering {}-{}@{}: {}", record.topic(), record.partition(), record.offset(), refusal.getMessage());
        if (refusedBefore > 2) {
            // even a dead letter of headers only was refused (a dead-letter topic limited to a few KiB?): say so loudly
            LOG.error("dropping {}-{}@{} ({} bytes): Kafka refused every form of its dead letter; reason: {}", record.topic(),
                    record.partition(), record.offset(), record.value() == null ? 0 : record.value().length, refusal.getMessage());
            tx.ingestOutcomes.merge(new IngestOutcome("dropped", refusal.kind().tag()), 1, Integer::sum);
            return;
        }
        // after one size refusal only the start of the original is kept, after two nothing of it but its size and hash
        int budget = switch (refusedBefore) {
            case 0 -> maxRecordBytes;
            case 1 -> DeadLetters.PREFIX_ONLY_BYTES;
            default -> DeadLetters.HEADERS_ONLY_BYTES;
        };
        send(DeadLetters.of(topics.deadLetters().name(), new DeadLetters.Source(record.topic(), record.partition(), record.offset()),
                record.key(), record.value(), refusal.getMessage(), budget), tx);
        tx.ingestOutcomes.merge(new IngestOutcome("dead-lettered", refusal.kind().tag()), 1, Integer::sum);
    }

    /** Validates and admits one request, and sends it with its state entries if it passes. */
    private Verdict pass(AbnormalRequest raw, String repeatKey, boolean stormLimited, Transaction tx) throws Refusal {
        AbnormalRequest request = validator.validate(raw);
        long now = clock.millis();
        Verdict.Outcome outcome = admission.admit(request, repeatKey, stormLimited, tx.stateWrites, now);
        if (outcome != Verdict.Outcome.FORWARDED) {
            return Verdict.suppressed(outcome);
        }
        if (stormLimited) {
            tx.stormTaken.add(request.getNodeName());
            send(ledger.record(request.getNodeName(), now), tx);
        }
        String abnormals = topics.abnormals().name();
        byte[] key = topics.abnormals().keySerde().serializer().serialize(abnormals, request.getNodeName());
        byte[] value = topics.abnormals().valueSerde().serializer().serialize(abnormals, request);
        RecordHeaders headers = new RecordHeaders();
        signer.sign(key, value, headers);
        send(new ProducerRecord<>(abnormals, null, key, value, headers), tx);
        remember(Admission.uidKey(request), now, tx);
        if (repeatKey != null) {
            remember(repeatKey, now, tx);
        }
        if (request.getOrigin() != Origin.CustomResource && mirror != null) {
            tx.mirrored.add(request);
        }
        return Verdict.FORWARDED;
    }

    private void remember(String key, long now, Transaction tx) {
        tx.stateWrites.put(key, now);
        send(new ProducerRecord<>(state.topic(), state.recordKey(key), BridgeState.recordValue(now)), tx);
    }

    /** The offset after the last of {@code records} in each partition (records come in offset order per partition). */
    private static Map<TopicPartition, OffsetAndMetadata> nextOffsets(List<ConsumerRecord<byte[], byte[]>> records) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            offsets.put(new TopicPartition(record.topic(), record.partition()),
                    new OffsetAndMetadata(record.offset() + 1, record.leaderEpoch(), ""));
        }
        return offsets;
    }

    /** Puts the consumer back at the first of {@code records} in each partition it still owns. */
    private void rewind(List<ConsumerRecord<byte[], byte[]>> records) {
        Map<TopicPartition, Long> first = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            first.putIfAbsent(new TopicPartition(record.topic(), record.partition()), record.offset());
        }
        first.forEach((partition, offset) -> {
            if (consumer.assignment().contains(partition)) {
                consumer.seek(partition, offset);
            }
        });
    }

    private static void closeQuietly(Runnable close, String what) {
        try {
            close.run();
        } catch (RuntimeException e) {
            LOG.warn("closing the {} failed: {}", what, e.toString());
        }
    }

    private record Pending(Submission submission, CompletableFuture<Verdict> verdict) {
        // identity, not value equality: the same submission twice is two abnormals to judge
        @Override
        public boolean equals(Object other) {
            return this == other;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(this);
        }

        @Override
        public String toString() {
            return "submission " + submission.source() + "/" + submission.request().getName();
        }
    }

    /** Where an ingest record was read. */
    private record IngestPosition(String topic, int partition, long offset) {
        @Override
        public String toString() {
            return topic + "-" + partition + "@" + offset;
        }
    }

    /** A record sent in a transaction, and the ingest record or submission it was sent for. */
    private record Sent(Object owner, Future<RecordMetadata> future) {
    }

    /** What one transaction produced, applied only once it committed. */
    private static final class Transaction {
        final Map<String, Long> stateWrites = new HashMap<>();
        final Map<Pending, Verdict> verdicts = new LinkedHashMap<>();
        final Map<IngestOutcome, Integer> ingestOutcomes = new HashMap<>();
        final List<String> stormTaken = new ArrayList<>();
        final List<AbnormalRequest> mirrored = new ArrayList<>();
        final List<Sent> sends = new ArrayList<>();
        final List<Object> handled = new ArrayList<>();
        /** The ingest position or submission being handled, which the records sent now are for. */
        Object current;
    }

    /** Metric tags of an ingest record's fate; reasons are {@link Refusal.Kind} or suppression tags, bounded sets. */
    private record IngestOutcome(String result, String reason) {
    }
}
