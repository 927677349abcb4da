package io.kdiag.sourcebridge.gate;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
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
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single path into {@code kdiag.abnormals}: one idempotent producer, on one thread, for every source. Forwarding
 * is at least once and pipelined: the gate sends a batch (forwarded requests, dead letters of refused ingest records,
 * storm ledger records) and reads the next without waiting for the acknowledgements; {@link InFlight} tracks each
 * batch until Kafka acknowledged its records and then its dedup entries, and only then are the batch's verdicts given,
 * its counts taken, its CRs mirrored and its ingest offsets committed (every {@link IngestGroup#commitInterval}, in
 * batch order). So nothing is lost: a crash reads again what it had not committed, and forwards again only what was
 * forwarded after the last dedup entries were written; the agent runs each uid once, whatever reaches it twice.
 *
 * <p>Every request passes the {@link RequestValidator}, then the {@link Admission}: a uid forwarded before is a duplicate,
 * a repeat key forwarded less than the repeat interval ago is suppressed, and automatic sources are held to the storm
 * limits. What is admitted counts as forwarded from the moment it is sent. Sources call {@link #submit} from any thread;
 * the future completes once Kafka acknowledged the records of the verdict. Every record written to
 * {@code kdiag.abnormals} is signed with the gate's {@link SigningKey}: agents run nothing that is not.
 */
public final class Gate implements AutoCloseable {
    private static final String INGEST_SOURCE = BridgeMetrics.SOURCE_INGEST;
    private static final Logger LOG = LoggerFactory.getLogger(Gate.class);
    /** How long the gate waits for new work; a submission or an acknowledgement to settle ends the wait at once ({@link Wakeup}). */
    private static final Duration POLL = Duration.ofMillis(100);
    /** Put in the submissions queue to end the gate's wait on it; no submission. */
    private static final Pending WAKE = new Pending(null, null);
    private static final Duration CLOSE = Duration.ofSeconds(10);
    private static final Duration START_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final int MAX_BATCH = 500;
    /** Batches sent and not yet acknowledged whole, at most: what a slow broker may cost in memory (500 records each). */
    private static final int MAX_IN_FLIGHT = 8;
    /** Session of a bridge replica in the ingest group (Kafka's default: 45 s). */
    private static final int SESSION_TIMEOUT_MS = 10_000;
    /** Longest pause between attempts at a batch whose sends keep failing (the broker is away, say). */
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    private final Topics topics;
    private final Producer<byte[], byte[]> producer;
    private final org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer;
    private final Duration commitInterval;
    private final StormLedger ledger;
    private final InFlight<Work> inFlight;
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
    /** The ingest offsets of finished batches, not yet committed. */
    private final Map<TopicPartition, OffsetAndMetadata> finishedOffsets = new HashMap<>();
    private final IngestDecoder decoder = new IngestDecoder();
    private final RequestValidator validator = new RequestValidator();
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final CompletableFuture<Void> consuming = new CompletableFuture<>();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private final LoopProgress progress;
    private final Wakeup wakeup;
    private final Duration idleWait;
    private final Thread thread;
    /** Submissions of undone batches, tried again before the queue. */
    private List<Pending> retry = new ArrayList<>();
    private long lastCommit;
    /** Batches that failed since the last one finished: how long to back off. */
    private int failuresInARow;
    private volatile boolean running = true;

    private Gate(Topics topics, Producer<byte[], byte[]> producer, org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer,
            Duration commitInterval, BridgeState state, StormLedger ledger, StormLimiter storm, GateOptions options, SigningKey signer,
            Consumer<AbnormalRequest> mirror, MeterRegistry registry, Clock clock, int maxRecordBytes, Duration idleWait) {
        this.topics = topics;
        this.producer = producer;
        this.consumer = consumer;
        this.commitInterval = commitInterval;
        this.ledger = ledger;
        this.wakeup = new Wakeup(consumer != null ? consumer::wakeup : () -> queue.offer(WAKE));
        this.idleWait = idleWait;
        this.inFlight = new InFlight<>(producer, state, MAX_IN_FLIGHT, wakeup::wake);
        this.admission = new Admission(inFlight::lastForwarded, storm, options.repeatInterval());
        this.signer = signer;
        this.mirror = mirror;
        this.registry = registry;
        this.clock = clock;
        this.maxRecordBytes = maxRecordBytes;
        this.progress = new LoopProgress("the gate's forwarding loop", options.stallTimeout());
        this.lastCommit = clock.millis();
        this.thread = new Thread(this::run, "kdiag-gate");
        BridgeMetrics.registerBaseline(registry);
    }

    /**
     * Opens the idempotent producer, loads the bridge state, and starts the gate thread; with an {@code ingest} group
     * it also consumes the open ingest topic, and returns once it has its first partition assignment.
     *
     * @param topics the topic catalogue
     * @param kafka Kafka client settings; delivery, group and serializer settings are the gate's own
     * @param ingest how to consume {@code abnormal-requests}, or {@code null} not to
     * @param options dedup and storm settings
     * @param signer signs every record written to {@code kdiag.abnormals}
     * @param mirror called on the gate thread with each acknowledged request that asked for a CR; must not block
     * @param registry where the counters go
     * @throws IllegalStateException if Kafka could not be reached within two minutes
     */
    public static Gate start(Topics topics, Map<String, Object> kafka, IngestGroup ingest, GateOptions options,
            SigningKey signer, Consumer<AbnormalRequest> mirror, MeterRegistry registry) {
        return start(topics, kafka, ingest, options, signer, mirror, registry, POLL);
    }

    /** {@link #start}, waiting up to {@code idleWait} for new work when nothing else ends the wait. */
    static Gate start(Topics topics, Map<String, Object> kafka, IngestGroup ingest, GateOptions options,
            SigningKey signer, Consumer<AbnormalRequest> mirror, MeterRegistry registry, Duration idleWait) {
        Map<String, Object> producerSettings = new HashMap<>(kafka);
        producerSettings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        producerSettings.put(ProducerConfig.ACKS_CONFIG, "all");
        // a record waits for no other: batches form anyway while earlier requests are in flight
        producerSettings.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 0);
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerSettings, new ByteArraySerializer(), new ByteArraySerializer());
        KafkaConsumer<byte[], byte[]> consumer = null;
        StormLedger ledger = null;
        Gate gate;
        try {
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
            gate = new Gate(topics, producer, consumer, ingest == null ? Duration.ZERO : ingest.commitInterval(), state, ledger, storm,
                    options, signer, mirror, registry, clock, DeadLetters.maxRecordBytes(producerSettings), idleWait);
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
     * @param commitInterval how often the offsets of finished batches are committed: a crash reads again what was
     *     read since, and forwards again only what it forwarded in the instant before
     */
    public record IngestGroup(String group, String instanceId, Duration commitInterval) {
    }

    /** Queues a submission; the future completes with its verdict once its records are acknowledged, or exceptionally if the gate stopped. */
    public CompletableFuture<Verdict> submit(Submission submission) {
        Pending pending = new Pending(submission, new CompletableFuture<>());
        if (!running) {
            pending.verdict.completeExceptionally(new IllegalStateException("the gate is stopped"));
            return pending.verdict;
        }
        queue.add(pending);
        if (consumer != null) {
            // the gate thread waits in the ingest consumer's poll, not on the queue
            wakeup.wake();
        }
        return pending.verdict;
    }

    /**
     * Whether the gate is alive: its thread runs, and its loop finished a batch or found nothing to do within the stall
     * timeout. A loop whose sends keep failing, or that blocks, is not.
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

    /** Stops after the batches in flight are acknowledged and their offsets committed, and closes the Kafka clients. */
    @Override
    public void close() {
        running = false;
        wakeup.stop();
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
                        // what was read from them is acknowledged and committed before another replica reads on
                        finishInFlight();
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
            while (running) {
                InFlight.Failure<Work> failed = inFlight.settle(this::finished, this::rewrite);
                if (failed != null) {
                    failuresInARow++;
                    undo(failed);
                    backOff(failuresInARow);
                    continue;
                }
                commitIfDue(false);
                if (inFlight.full()) {
                    inFlight.awaitProgress(idleWait);
                    continue;
                }
                List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
                List<Pending> batch = retry;
                retry = new ArrayList<>();
                Duration wait = wakeup.beforeWait(idleWait);
                try {
                    if (consumer != null) {
                        consumer.poll(wait).forEach(records::add);
                    } else if (batch.isEmpty()) {
                        Pending first = queue.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
                        if (first != null) {
                            batch.add(first);
                        }
                    }
                } catch (WakeupException e) {
                    if (!running) {
                        throw e;
                    }
                    // an acknowledgement ended the wait: settle it
                } finally {
                    wakeup.afterWait();
                }
                queue.drainTo(batch, MAX_BATCH);
                batch.removeIf(p -> p == WAKE);
                if (records.isEmpty() && batch.isEmpty()) {
                    if (inFlight.isEmpty()) {
                        progress.progressed();
                    }
                    continue;
                }
                // the other gates' starts, without waiting: reading the ledger to its end before taking tokens stays short
                ledger.catchUp();
                if (batch.stream().anyMatch(p -> p.submission.stormLimited())) {
                    // every start another gate wrote until now counts before this one takes tokens
                    ledger.readToEnd();
                }
                send(records, batch);
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
            if (failure == null) {
                closeQuietly(this::finishInFlight, "batches in flight");
            }
            if (consumer != null) {
                // a stop, not a crash: the partitions go to another replica now rather than after the session timeout
                closeQuietly(() -> consumer.close(CloseOptions.groupMembershipOperation(GroupMembershipOperation.LEAVE_GROUP)
                        .withTimeout(CLOSE)), "consumer");
            }
            closeQuietly(() -> producer.close(CLOSE), "producer");
            closeQuietly(ledger::close, "storm ledger consumer");
            List<Pending> left = new ArrayList<>(retry);
            inFlight.abandon().forEach(work -> left.addAll(work.submissions()));
            queue.drainTo(left);
            left.removeIf(p -> p == WAKE);
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
     * Waits for every batch in flight and commits the offsets of those that finished: before partitions go to another
     * replica, and before the gate stops. A batch that failed is undone (read or submitted again later, or by the
     * replica that gets its partitions).
     */
    private void finishInFlight() {
        InFlight.Failure<Work> failed = inFlight.flush(this::finished, this::rewrite);
        if (failed != null) {
            undo(failed);
        }
        commitIfDue(true);
    }

    /** Commits the offsets of the finished batches: now, or when the commit interval has passed since the last commit. */
    private void commitIfDue(boolean now) {
        if (consumer == null || finishedOffsets.isEmpty()) {
            return;
        }
        long at = clock.millis();
        if (!now && at - lastCommit < commitInterval.toMillis()) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>(finishedOffsets);
        finishedOffsets.clear();
        lastCommit = at;
        if (now) {
            try {
                consumer.commitSync(offsets, CLOSE);
            } catch (WakeupException e) {
                // a wake-up came while committing (the stop, or an acknowledgement while the rebalance listener runs within
                // a poll): the commit still matters, so try once more
                consumer.commitSync(offsets, CLOSE);
            } catch (KafkaException e) {
                // the partitions are gone already (lost, not revoked): the next owner reads them again from the last commit
                LOG.warn("cannot commit the ingest offsets {}: {}", offsets, e.toString());
            }
        } else {
            consumer.commitAsync(offsets, (committed, error) -> {
                if (error != null) {
                    // the next commit of these partitions covers them; until then a crash only reads them again
                    LOG.warn("cannot commit the ingest offsets {}: {}", committed, error.toString());
                }
            });
        }
    }

    /**
     * After the {@code failures}-th failed batch in a row: a pause growing from 100 ms to {@link #MAX_BACKOFF}, so a broker
     * that is away is not hammered, and a refusal that no retry can mend is at least not retried at full speed.
     */
    private static void backOff(int failures) throws InterruptedException {
        long pause = Math.min(MAX_BACKOFF.toMillis(), 100L << Math.min(failures - 1, 10));
        TimeUnit.MILLISECONDS.sleep(pause);
    }

    /**
     * Takes back every effect of the batches of a failed send: their storm tokens, the submissions (tried again next),
     * the ingest records (read again: the consumer goes back to the first of them in each partition it still owns).
     *
     * @throws KafkaException when the failure is one no retry mends (the cluster refuses this client)
     */
    private void undo(InFlight.Failure<Work> failed) {
        Exception cause = failed.cause();
        if (cause instanceof AuthorizationException || cause instanceof AuthenticationException
                || cause instanceof UnsupportedVersionException) {
            throw (KafkaException) cause;
        }
        LOG.warn("sending a batch failed, trying it again with {} later batch(es): {}", failed.undone().size() - 1, cause.toString());
        Map<TopicPartition, Long> firstOffsets = new HashMap<>();
        List<Pending> undone = new ArrayList<>();
        for (Work work : failed.undone()) {
            for (Fate fate : work.fates.values()) {
                if (fate.stormToken != null) {
                    admission.refund(fate.stormToken.node(), fate.stormToken.at());
                }
            }
            undone.addAll(work.submissions());
            for (ConsumerRecord<byte[], byte[]> record : work.records) {
                firstOffsets.merge(new TopicPartition(record.topic(), record.partition()), record.offset(), Math::min);
            }
        }
        undone.addAll(retry);
        retry = undone;
        firstOffsets.forEach((partition, offset) -> {
            if (consumer != null && consumer.assignment().contains(partition)) {
                consumer.seek(partition, offset);
            }
        });
    }

    /** Judges and sends one batch: the ingest records read, then the submissions. */
    private void send(List<ConsumerRecord<byte[], byte[]>> records, List<Pending> batch) {
        Work work = new Work(records);
        work.batch = inFlight.open(work);
        records.forEach(record -> ingest(record, work));
        batch.forEach(pending -> judge(pending, work));
    }

    /**
     * Writes again, smaller, what Kafka refused for its size, in the same batch: a submission becomes a refusal, an ingest
     * record a dead letter with less of the original each time, down to a bare one. What the refused writing had taken
     * (its dedup entries, its storm token) is given back first.
     */
    private void rewrite(Work work, Set<Object> refused) {
        for (Object owner : refused) {
            Fate fate = work.fates.remove(owner);
            if (fate == null) {
                continue; // a dedup entry: not writing it only means its request may be forwarded again after a crash
            }
            inFlight.forget(work.batch, fate.entries);
            if (fate.stormToken != null) {
                admission.refund(fate.stormToken.node(), fate.stormToken.at());
            }
            int refusals = oversized.merge(owner, 1, Integer::sum);
            LOG.warn("Kafka refused a record of {} as too large ({} time(s)); writing less of it next", owner, refusals);
            if (owner instanceof Pending pending) {
                judge(pending, work);
            } else {
                work.records.stream().filter(record -> position(record).equals(owner)).forEach(record -> ingest(record, work));
            }
        }
    }

    /** A submission: forwarded, suppressed or refused. */
    private void judge(Pending pending, Work work) {
        Fate fate = work.begin(pending);
        Submission s = pending.submission;
        try {
            if (oversized.containsKey(pending)) {
                throw new Refusal(Refusal.Kind.UNWRITABLE, "Kafka refused the abnormal as too large a record to write");
            }
            fate.verdict = pass(s.request(), s.repeatKey(), s.stormLimited(), work);
        } catch (Refusal refusal) {
            fate.verdict = Verdict.refused(refusal);
        } catch (RuntimeException e) {
            LOG.error("cannot process a submission source={} name={}", s.source(), s.request().getName(), e);
            fate.verdict = Verdict.refused(new Refusal(Refusal.Kind.INTERNAL, "the bridge failed on this abnormal: " + e));
        }
    }

    /** A batch is acknowledged whole: everything below happens once, so a batch sent again is neither counted nor mirrored twice. */
    private void finished(Work work) {
        progress.progressed();
        failuresInARow = 0;
        work.records.forEach(record -> finishedOffsets.put(new TopicPartition(record.topic(), record.partition()),
                new OffsetAndMetadata(record.offset() + 1, record.leaderEpoch(), "")));
        Map<IngestOutcome, Integer> ingestOutcomes = new HashMap<>();
        work.fates.forEach((owner, fate) -> {
            oversized.remove(owner);
            if (fate.ingestOutcome != null) {
                ingestOutcomes.merge(fate.ingestOutcome, 1, Integer::sum);
            }
            if (owner instanceof Pending pending) {
                count(pending.submission.source(), fate.verdict);
                if (fate.verdict.outcome() == Verdict.Outcome.REFUSED) {
                    LOG.info("refused source={} name={} reason={} message={}", pending.submission.source(),
                            pending.submission.request().getName(), fate.verdict.reason(), fate.verdict.message());
                }
            }
            if (fate.mirrored != null) {
                try {
                    mirror.accept(fate.mirrored);
                } catch (RuntimeException e) {
                    LOG.warn("cannot mirror uid={} as a CR: {}", fate.mirrored.getUid(), e.toString());
                }
            }
        });
        ingestOutcomes.forEach((outcome, n) -> {
            registry.counter(BridgeMetrics.INGEST_RECORDS, "result", outcome.result(), "reason", outcome.reason()).increment(n);
            if ("suppressed".equals(outcome.result())) {
                registry.counter(BridgeMetrics.SUPPRESSED, "source", INGEST_SOURCE, "reason", outcome.reason()).increment(n);
            }
        });
        work.fates.forEach((owner, fate) -> {
            if (owner instanceof Pending pending) {
                pending.verdict.complete(fate.verdict);
            }
        });
    }

    private void count(String source, Verdict verdict) {
        switch (verdict.outcome()) {
            case FORWARDED -> registry.counter(BridgeMetrics.FORWARDED, "source", source).increment();
            case REFUSED -> registry.counter(BridgeMetrics.REFUSED, "source", source, "reason", verdict.reason()).increment();
            default -> registry.counter(BridgeMetrics.SUPPRESSED, "source", source, "reason", verdict.outcome().suppressionTag()).increment();
        }
    }

    private void send(ProducerRecord<byte[], byte[]> record, Work work) {
        inFlight.send(work.batch, work.current, record);
    }

    private static IngestPosition position(ConsumerRecord<byte[], byte[]> record) {
        return new IngestPosition(record.topic(), record.partition(), record.offset());
    }

    /** An ingest record: forwarded (unless a duplicate) or dead-lettered with the reason. */
    private void ingest(ConsumerRecord<byte[], byte[]> record, Work work) {
        Fate fate = work.begin(position(record));
        IngestDecoder.Position position =
                new IngestDecoder.Position(record.topic(), record.partition(), record.offset(), record.timestamp());
        Refusal refusal;
        int refusedBefore = oversized.getOrDefault(work.current, 0);
        try {
            if (refusedBefore > 0) {
                throw new Refusal(Refusal.Kind.UNWRITABLE, "Kafka refused the record as too large to forward or to copy whole ("
                        + (record.value() == null ? 0 : record.value().length) + " bytes)");
            }
            AbnormalRequest request = decoder.decode(position, record.key(), record.value());
            Verdict verdict = pass(request, null, false, work);
            fate.ingestOutcome = verdict.outcome() == Verdict.Outcome.FORWARDED ? new IngestOutcome("forwarded", "none")
                    : new IngestOutcome("suppressed", verdict.outcome().suppressionTag());
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
            fate.ingestOutcome = new IngestOutcome("dropped", refusal.kind().tag());
            return;
        }
        // after one size refusal only the start of the original is kept, after two nothing of it but its size and hash
        int budget = switch (refusedBefore) {
            case 0 -> maxRecordBytes;
            case 1 -> DeadLetters.PREFIX_ONLY_BYTES;
            default -> DeadLetters.HEADERS_ONLY_BYTES;
        };
        send(DeadLetters.of(topics.deadLetters().name(), new DeadLetters.Source(record.topic(), record.partition(), record.offset()),
                record.key(), record.value(), refusal.getMessage(), budget), work);
        fate.ingestOutcome = new IngestOutcome("dead-lettered", refusal.kind().tag());
    }

    /** Validates and admits one request, and sends it if it passes, remembering it as forwarded from now on. */
    private Verdict pass(AbnormalRequest raw, String repeatKey, boolean stormLimited, Work work) throws Refusal {
        AbnormalRequest request = validator.validate(raw);
        long now = clock.millis();
        Verdict.Outcome outcome = admission.admit(request, repeatKey, stormLimited, now);
        if (outcome != Verdict.Outcome.FORWARDED) {
            return Verdict.suppressed(outcome);
        }
        if (stormLimited) {
            work.fate().stormToken = new StormToken(request.getNodeName(), now);
            send(ledger.record(request.getNodeName(), now), work);
        }
        String abnormals = topics.abnormals().name();
        byte[] key = topics.abnormals().keySerde().serializer().serialize(abnormals, request.getNodeName());
        byte[] value = topics.abnormals().valueSerde().serializer().serialize(abnormals, request);
        RecordHeaders headers = new RecordHeaders();
        signer.sign(key, value, headers);
        send(new ProducerRecord<>(abnormals, null, key, value, headers), work);
        remember(Admission.uidKey(request), now, work);
        if (repeatKey != null) {
            remember(repeatKey, now, work);
        }
        if (request.getOrigin() != Origin.CustomResource && mirror != null) {
            work.fate().mirrored = request;
        }
        return Verdict.FORWARDED;
    }

    private void remember(String key, long now, Work work) {
        inFlight.remember(work.batch, key, now);
        work.fate().entries.add(key);
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

    /** A storm token taken for a request on {@code node} at {@code at}: what undoing its batch gives back. */
    private record StormToken(String node, long at) {
    }

    /** What one batch produced, applied only once Kafka acknowledged it whole. */
    private static final class Work {
        final List<ConsumerRecord<byte[], byte[]>> records;
        /** By ingest position or submission, in the order they were handled. */
        final Map<Object, Fate> fates = new LinkedHashMap<>();
        InFlight.Batch<Work> batch;
        /** The ingest position or submission being handled, which the records sent now are for. */
        Object current;

        Work(List<ConsumerRecord<byte[], byte[]>> records) {
            this.records = records;
        }

        Fate begin(Object owner) {
            current = owner;
            Fate fate = new Fate();
            fates.put(owner, fate);
            return fate;
        }

        Fate fate() {
            return fates.get(current);
        }

        List<Pending> submissions() {
            return fates.keySet().stream().filter(Pending.class::isInstance).map(Pending.class::cast).toList();
        }
    }

    /** What became of one ingest record or submission of a batch. */
    private static final class Fate {
        /** A submission's verdict. */
        Verdict verdict;
        /** An ingest record's metric tags. */
        IngestOutcome ingestOutcome;
        /** The dedup entries its forward took. */
        final List<String> entries = new ArrayList<>();
        StormToken stormToken;
        /** The request to mirror as a CR once acknowledged. */
        AbnormalRequest mirrored;
    }

    /** Metric tags of an ingest record's fate; reasons are {@link Refusal.Kind} or suppression tags, bounded sets. */
    private record IngestOutcome(String result, String reason) {
    }
}
