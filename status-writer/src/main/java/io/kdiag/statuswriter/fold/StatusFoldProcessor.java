package io.kdiag.statuswriter.fold;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import io.kdiag.model.FoldState;
import io.kdiag.model.FoldStateSerde;
import io.kdiag.model.Phases;
import io.kdiag.schemas.DeadLetters;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.StreamsMetrics;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Folds each event into its abnormal's {@link FoldState} and notes the abnormal's snapshot as changed; a wall-clock
 * punctuation every flush interval forwards the current snapshot, keyed by uid, of each changed abnormal. So an
 * abnormal whose events arrive in a burst costs one snapshot per interval rather than one per event. A snapshot that
 * reached Succeeded or Failed is forwarded at once instead: the final status is what users wait for, and an abnormal
 * has one. Every snapshot it publishes goes to the status sink and to {@code onSnapshot}. Every change of a state is
 * written to the store at once; the states of abnormals not final yet are also kept as objects ({@link LiveFoldStates}),
 * so their next event reads and decodes nothing.
 *
 * <p>It runs at least once, so after a crash the events since the last commit are read again, over a store that may
 * already hold some of them. Nothing is lost and nothing changes: (1) a replayed event is a duplicate for the fold,
 * changes no state, and publishes the abnormal's current snapshot again, which is the one published before or about to
 * be (so a snapshot sent but not acknowledged before the crash is sent again); (2) an event committed before its
 * snapshot was published (the commit fell between the event and the next flush) is not read again, so every abnormal
 * not final yet has a mark in a changelogged store, set at its first change and removed only when it becomes final,
 * and the first flush of a task publishes the current snapshot of every marked abnormal. A mark is never removed
 * before the final snapshot: that snapshot is sent before the commit of the event that made it, so when the removal
 * reaches the changelog and the final snapshot does not, the event is read again and (1) publishes it. An event the
 * fold gives up on (refused, or pushed out of the out-of-order buffer) is logged and goes to the dead-letter sink as it
 * was decoded, with its uid and seq in the reason ({@link WriterDeadLetters}); after a crash it may be dead-lettered
 * twice. Duplicates are a Kafka Streams metric (group {@code stream-kdiag-status-fold-metrics}), which reaches
 * Micrometer with the rest.
 */
final class StatusFoldProcessor implements Processor<String, DiagnosisEvent, Object, Object> {
    private static final String METRICS_SCOPE = "kdiag-status-fold";
    private static final Logger LOG = LoggerFactory.getLogger(StatusFoldProcessor.class);
    /**
     * What each task's live states may take: a typical abnormal's state is a few KiB, so about a thousand abnormals in
     * flight per partition, and tens of MiB over the dozen partitions of a default installation.
     */
    static final long LIVE_STATE_BYTES = 8L * 1024 * 1024;

    private final String storeName;
    private final String dirtyStoreName;
    private final Duration flushInterval;
    private final Consumer<AbnormalStatus> onSnapshot;
    private final WriterDeadLetters deadLetters;
    private final Serializer<DiagnosisEvent> eventSerializer;
    private ProcessorContext<Object, Object> context;
    private KeyValueStore<String, FoldState> store;
    private KeyValueStore<String, Long> dirty;
    /**
     * The latest snapshot of each abnormal that changed since the last flush: the flush publishes from here without
     * reading the store, and a mark is looked up once per abnormal and interval rather than per event.
     */
    private final Map<String, AbnormalStatus> changed = new HashMap<>();
    /** The states of the abnormals folded lately, not final yet: an event of theirs reads no store. */
    private final LiveFoldStates live = new LiveFoldStates(LIVE_STATE_BYTES);
    /** Whether the snapshots of the abnormals marked in the store at start (restored from its changelog) were published. */
    private boolean restoredMarksPublished;
    private Sensor duplicates;

    /**
     * The supplier, carrying the stores so {@code process()} connects them. The dirty store maps the uid of each
     * abnormal that is not final yet, whose latest snapshot may not have reached the status topic, to the lastSeq of its
     * first change.
     */
    static ProcessorSupplier<String, DiagnosisEvent, Object, Object> supplier(String storeName, String dirtyStoreName,
            Duration flushInterval, Consumer<AbnormalStatus> onSnapshot, WriterDeadLetters deadLetters, Serializer<DiagnosisEvent> events) {
        return new ProcessorSupplier<>() {
            @Override
            public Processor<String, DiagnosisEvent, Object, Object> get() {
                return new StatusFoldProcessor(storeName, dirtyStoreName, flushInterval, onSnapshot, deadLetters, events);
            }

            @Override
            public Set<StoreBuilder<?>> stores() {
                return Set.of(
                        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(storeName), Serdes.String(),
                                new FoldStateSerde()).withCachingEnabled(),
                        // cached: a mark set and cleared between two commits never reaches the changelog. In memory,
                        // restored from its changelog at every start: it holds only the abnormals not final yet, while
                        // a RocksDB store per task was opened twice at every start (once to report the task's offsets,
                        // once by the stream thread), seconds of a restart on a busy machine
                        Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(dirtyStoreName), Serdes.String(),
                                Serdes.Long()).withCachingEnabled());
            }
        };
    }

    private StatusFoldProcessor(String storeName, String dirtyStoreName, Duration flushInterval, Consumer<AbnormalStatus> onSnapshot,
            WriterDeadLetters deadLetters, Serializer<DiagnosisEvent> eventSerializer) {
        this.storeName = storeName;
        this.dirtyStoreName = dirtyStoreName;
        this.flushInterval = flushInterval;
        this.onSnapshot = onSnapshot;
        this.deadLetters = deadLetters;
        this.eventSerializer = eventSerializer;
    }

    @Override
    public void init(ProcessorContext<Object, Object> context) {
        this.context = context;
        this.store = context.getStateStore(storeName);
        this.dirty = context.getStateStore(dirtyStoreName);
        // init runs again on the same processor when a task is revived over a store restored anew
        live.clear();
        StreamsMetrics metrics = context.metrics();
        String task = context.taskId().toString();
        duplicates = metrics.addRateTotalSensor(METRICS_SCOPE, task, "duplicate-events", Sensor.RecordingLevel.INFO);
        context.schedule(flushInterval, PunctuationType.WALL_CLOCK_TIME, this::flush);
    }

    @Override
    public void process(Record<String, DiagnosisEvent> record) {
        DiagnosisEvent event = record.value();
        if (event == null) {
            // a tombstone on the history topic carries nothing to fold, nor to copy
            LOG.warn("record skipped: a tombstone key={} reason={}", record.key(), WriterDeadLetters.TOMBSTONE);
            deadLetters.count(WriterDeadLetters.TOMBSTONE);
            return;
        }
        String uid = event.getAbnormalUid();
        FoldState state = live.get(uid);
        if (state == null) {
            state = store.get(uid);
        }
        try {
            fold(record, uid, state == null ? FoldState.empty() : state);
        } catch (RuntimeException e) {
            // the state may have changed without reaching the store: the next event of the abnormal reads the store
            live.remove(uid);
            throw e;
        }
    }

    private void fold(Record<String, DiagnosisEvent> record, String uid, FoldState state) {
        DiagnosisEvent event = record.value();
        FoldState.Offer offer = state.offer(event, FoldState.MAX_PENDING);
        offer.givenUp().forEach(givenUp -> giveUp(record, givenUp, offer.outcome()));
        switch (offer.outcome()) {
            case DUPLICATE -> {
                duplicates.record();
                // read again after a crash, or sent twice: its snapshot may not have reached the topic the first time
                if (state.current() != null) {
                    changed(uid, state);
                }
            }
            case BUFFERED, OVERFLOW -> {
                store.put(uid, state);
                live.put(uid, state);
            }
            case APPLIED, REFUSED -> {
                if (state.current() == null) {
                    return; // a first event that is not Accepted: nothing to keep
                }
                store.put(uid, state);
                if (Phases.isFinal(state.current().getPhase())) {
                    // later events of a final abnormal (a command's or profile's result) are rare
                    live.remove(uid);
                    publish(uid, state.current(), context.currentSystemTimeMs());
                    changed.remove(uid);
                    dirty.delete(uid);
                } else {
                    live.put(uid, state);
                    changed(uid, state);
                }
            }
        }
    }

    /** Notes the snapshot for the next flush and marks an abnormal that is not final, once per interval at most. */
    private void changed(String uid, FoldState state) {
        if (changed.put(uid, state.current()) == null && !Phases.isFinal(state.current().getPhase()) && dirty.get(uid) == null) {
            dirty.put(uid, state.lastSeq());
        }
    }

    /** Logs, counts and dead-letters an event the fold gave up on. */
    private void giveUp(Record<String, DiagnosisEvent> record, FoldState.GivenUp givenUp, FoldState.Outcome outcome) {
        DiagnosisEvent event = givenUp.event();
        String reason = outcome == FoldState.Outcome.OVERFLOW ? WriterDeadLetters.OVERFLOW : WriterDeadLetters.REFUSED;
        LOG.warn("event given up uid={} seq={} reason={} message={}", event.getAbnormalUid(), event.getSeq(), reason, givenUp.reason());
        deadLetters.count(reason);
        String topic = context.recordMetadata().map(RecordMetadata::topic).orElse("");
        // the record read now is the one offered; another given up was read earlier, at an offset not kept
        boolean offered = event == record.value();
        DeadLetters.Source source = new DeadLetters.Source(topic, context.recordMetadata().map(RecordMetadata::partition).orElse(-1),
                offered ? context.recordMetadata().map(RecordMetadata::offset).orElse(-1L) : -1L);
        byte[] key = record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8);
        for (ProducerRecord<byte[], byte[]> letter : deadLetters.letter(source, key, eventSerializer.serialize(topic, event),
                "event uid=" + event.getAbnormalUid() + " seq=" + event.getSeq() + " given up (" + reason + "): " + givenUp.reason(),
                offered ? record.headers() : null)) {
            context.forward(new Record<Object, Object>(letter.key(), letter.value(), record.timestamp(), letter.headers()),
                    StatusFoldTopology.DEAD_LETTER_SINK);
        }
    }

    /** Hands a snapshot over and forwards it to the status topic. */
    private void publish(String uid, AbnormalStatus snapshot, long timestamp) {
        onSnapshot.accept(snapshot);
        context.forward(new Record<>(uid, snapshot, timestamp), StatusFoldTopology.STATUS_SINK);
    }

    /**
     * Forwards the current snapshot of every changed abnormal. The marks stay: the snapshot is acknowledged only by the
     * next commit, and a mark removed before would be lost with a snapshot that was not.
     */
    private void flush(long now) {
        if (!restoredMarksPublished) {
            publishRestoredMarks(now);
            restoredMarksPublished = true;
        }
        changed.forEach((uid, snapshot) -> publish(uid, snapshot, now));
        changed.clear();
    }

    /**
     * The snapshots of the abnormals marked in the store when this task started (restored from its changelog), but for
     * those that changed since, which the flush publishes: any of them may have changed in an event committed before a
     * crash without its snapshot reaching the topic. Marks of final abnormals (their removal lost in a crash) are removed.
     */
    private void publishRestoredMarks(long now) {
        List<String> uids = new ArrayList<>();
        try (KeyValueIterator<String, Long> it = dirty.all()) {
            it.forEachRemaining(kv -> uids.add(kv.key));
        }
        uids.removeAll(changed.keySet());
        for (String uid : uids) {
            FoldState state = store.get(uid);
            if (state != null && state.current() != null) {
                publish(uid, state.current(), now);
                if (Phases.isFinal(state.current().getPhase())) {
                    dirty.delete(uid);
                }
            } else {
                // a mark is set with a snapshot only; forwarding nothing beats failing the task on every restart
                LOG.warn("dirty mark dropped: no snapshot uid={}", uid);
                dirty.delete(uid);
            }
        }
    }

    @Override
    public void close() {
        live.clear();
        StreamsMetrics metrics = context.metrics();
        metrics.removeSensor(duplicates);
    }
}
