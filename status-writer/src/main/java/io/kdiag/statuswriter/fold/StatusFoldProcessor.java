package io.kdiag.statuswriter.fold;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.kdiag.model.FoldState;
import io.kdiag.model.FoldStateSerde;
import io.kdiag.model.Phases;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsMetrics;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Folds each event into its abnormal's {@link FoldState} and marks the abnormal dirty when its snapshot changed; a
 * wall-clock punctuation every flush interval forwards the current snapshot, keyed by uid, of each dirty abnormal
 * and clears its mark. So an abnormal whose events arrive in a burst costs one snapshot per interval rather than one
 * per event. A snapshot that reached Succeeded or Failed is forwarded at once instead: the final status is what
 * users wait for, and an abnormal has one. The dirty marks live in a changelogged store of the same exactly-once
 * task: a crash between a change and its forward leaves the mark in the restored store, and the next punctuation
 * forwards the snapshot. Counts duplicates, buffer overflows and invalid events as Kafka Streams metrics (group
 * {@code stream-kdiag-status-fold-metrics}), which reach Micrometer with the rest.
 */
final class StatusFoldProcessor implements Processor<String, DiagnosisEvent, String, AbnormalStatus> {
    private static final String METRICS_SCOPE = "kdiag-status-fold";
    private static final Logger LOG = LoggerFactory.getLogger(StatusFoldProcessor.class);

    private final String storeName;
    private final String dirtyStoreName;
    private final Duration flushInterval;
    private ProcessorContext<String, AbnormalStatus> context;
    private KeyValueStore<String, FoldState> store;
    private KeyValueStore<String, Long> dirty;
    /**
     * The latest snapshot of each abnormal this instance marked since the last flush: a mark costs one store write
     * per interval rather than one per event, and the flush publishes from here without reading the store.
     */
    private final Map<String, AbnormalStatus> changed = new HashMap<>();
    /** Whether the marks found in the dirty store at start (left by a crash) were published. */
    private boolean restoredMarksPublished;
    private Sensor duplicates;
    private Sensor overflows;
    private Sensor invalid;

    /**
     * The supplier, carrying the stores so {@code process()} connects them. The dirty store maps the uid of each
     * abnormal whose snapshot changed since its last forward to the lastSeq of its first change since then.
     */
    static ProcessorSupplier<String, DiagnosisEvent, String, AbnormalStatus> supplier(String storeName, String dirtyStoreName,
            Duration flushInterval) {
        return new ProcessorSupplier<>() {
            @Override
            public Processor<String, DiagnosisEvent, String, AbnormalStatus> get() {
                return new StatusFoldProcessor(storeName, dirtyStoreName, flushInterval);
            }

            @Override
            public Set<StoreBuilder<?>> stores() {
                return Set.of(
                        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(storeName), Serdes.String(),
                                new FoldStateSerde()).withCachingEnabled(),
                        // cached: a mark set and cleared between two commits never reaches the changelog
                        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(dirtyStoreName), Serdes.String(),
                                Serdes.Long()).withCachingEnabled());
            }
        };
    }

    private StatusFoldProcessor(String storeName, String dirtyStoreName, Duration flushInterval) {
        this.storeName = storeName;
        this.dirtyStoreName = dirtyStoreName;
        this.flushInterval = flushInterval;
    }

    @Override
    public void init(ProcessorContext<String, AbnormalStatus> context) {
        this.context = context;
        this.store = context.getStateStore(storeName);
        this.dirty = context.getStateStore(dirtyStoreName);
        StreamsMetrics metrics = context.metrics();
        String task = context.taskId().toString();
        duplicates = metrics.addRateTotalSensor(METRICS_SCOPE, task, "duplicate-events", Sensor.RecordingLevel.INFO);
        overflows = metrics.addRateTotalSensor(METRICS_SCOPE, task, "buffer-overflows", Sensor.RecordingLevel.INFO);
        invalid = metrics.addRateTotalSensor(METRICS_SCOPE, task, "invalid-events", Sensor.RecordingLevel.INFO);
        context.schedule(flushInterval, PunctuationType.WALL_CLOCK_TIME, this::flush);
    }

    @Override
    public void process(Record<String, DiagnosisEvent> record) {
        DiagnosisEvent event = record.value();
        if (event == null) {
            return; // a tombstone on the history topic carries nothing to fold
        }
        String uid = event.getAbnormalUid();
        FoldState state = store.get(uid);
        if (state == null) {
            state = FoldState.empty();
        }
        FoldState.Outcome outcome;
        try {
            outcome = state.offer(event, FoldState.MAX_PENDING);
        } catch (IllegalArgumentException e) {
            LOG.warn("event dropped: invalid for the fold uid={} seq={} reason={}", uid, event.getSeq(), e.getMessage());
            invalid.record();
            return;
        }
        switch (outcome) {
            case DUPLICATE -> duplicates.record();
            case BUFFERED -> store.put(uid, state);
            case OVERFLOW -> {
                LOG.warn("event dropped: out-of-order buffer full uid={} seq={} lastSeq={} buffered={}", uid,
                        event.getSeq(), state.lastSeq(), FoldState.MAX_PENDING);
                overflows.record();
                store.put(uid, state);
            }
            case APPLIED -> {
                store.put(uid, state);
                if (Phases.isFinal(state.current().getPhase())) {
                    context.forward(new Record<>(uid, state.current(), context.currentSystemTimeMs()));
                    // a mark restored after a crash stays until the next flush, which publishes this snapshot again
                    if (changed.remove(uid) != null) {
                        dirty.delete(uid);
                    }
                } else if (changed.put(uid, state.current()) == null) {
                    dirty.put(uid, state.lastSeq());
                }
            }
        }
    }

    /** Forwards the current snapshot of every dirty abnormal and clears its mark, in the task's transaction. */
    private void flush(long now) {
        if (!restoredMarksPublished) {
            publishRestoredMarks(now);
            restoredMarksPublished = true;
        }
        changed.forEach((uid, snapshot) -> {
            context.forward(new Record<>(uid, snapshot, now));
            dirty.delete(uid);
        });
        changed.clear();
    }

    /** The marks in the store that this instance did not set: left by a crash between a change and its publication. */
    private void publishRestoredMarks(long now) {
        List<String> uids = new ArrayList<>();
        try (KeyValueIterator<String, Long> it = dirty.all()) {
            it.forEachRemaining(kv -> uids.add(kv.key));
        }
        uids.removeAll(changed.keySet());
        for (String uid : uids) {
            FoldState state = store.get(uid);
            if (state != null && state.current() != null) {
                context.forward(new Record<>(uid, state.current(), now));
            } else {
                // a mark is set with a snapshot only; forwarding nothing beats failing the task on every restart
                LOG.warn("dirty mark dropped: no snapshot uid={}", uid);
            }
            dirty.delete(uid);
        }
    }

    @Override
    public void close() {
        StreamsMetrics metrics = context.metrics();
        metrics.removeSensor(duplicates);
        metrics.removeSensor(overflows);
        metrics.removeSensor(invalid);
    }
}
