package io.kdiag.statuswriter;

import java.util.Map;
import java.util.Set;

import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsMetrics;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Folds each event into its abnormal's {@link FoldState} and forwards the snapshot, keyed by uid, whenever it
 * changed. Keeps a summary of each of an abnormal's latest {@link #HISTORY_LIMIT} events in the history store, for
 * the query API; the full history stays on the events topic. Counts duplicates, buffer overflows and invalid events as Kafka Streams metrics (group
 * {@code stream-kdiag-status-fold-metrics}), which reach Micrometer with the rest.
 */
final class StatusFoldProcessor implements Processor<String, DiagnosisEvent, String, AbnormalStatus> {
    private static final String METRICS_SCOPE = "kdiag-status-fold";
    private static final Logger LOG = LoggerFactory.getLogger(StatusFoldProcessor.class);
    /** Event summaries kept per abnormal. */
    static final int HISTORY_LIMIT = 500;

    private final String storeName;
    private final String historyStoreName;
    private ProcessorContext<String, AbnormalStatus> context;
    private KeyValueStore<String, FoldState> store;
    private KeyValueStore<HistoryKey, Map<String, Object>> history;
    private Sensor duplicates;
    private Sensor overflows;
    private Sensor invalid;

    /** The supplier, carrying the stores so {@code process()} connects them. */
    static ProcessorSupplier<String, DiagnosisEvent, String, AbnormalStatus> supplier(String storeName, String historyStoreName) {
        return new ProcessorSupplier<>() {
            @Override
            public Processor<String, DiagnosisEvent, String, AbnormalStatus> get() {
                return new StatusFoldProcessor(storeName, historyStoreName);
            }

            @Override
            public Set<StoreBuilder<?>> stores() {
                return Set.of(
                        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(storeName), Serdes.String(),
                                new FoldStateSerde()).withCachingEnabled(),
                        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(historyStoreName), HistoryKey.SERDE,
                                EventSummary.SERDE).withCachingEnabled());
            }
        };
    }

    private StatusFoldProcessor(String storeName, String historyStoreName) {
        this.storeName = storeName;
        this.historyStoreName = historyStoreName;
    }

    @Override
    public void init(ProcessorContext<String, AbnormalStatus> context) {
        this.context = context;
        this.store = context.getStateStore(storeName);
        this.history = context.getStateStore(historyStoreName);
        StreamsMetrics metrics = context.metrics();
        String task = context.taskId().toString();
        duplicates = metrics.addRateTotalSensor(METRICS_SCOPE, task, "duplicate-events", Sensor.RecordingLevel.INFO);
        overflows = metrics.addRateTotalSensor(METRICS_SCOPE, task, "buffer-overflows", Sensor.RecordingLevel.INFO);
        invalid = metrics.addRateTotalSensor(METRICS_SCOPE, task, "invalid-events", Sensor.RecordingLevel.INFO);
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
        if (outcome != FoldState.Outcome.DUPLICATE) {
            remember(event, state.lastSeq());
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
                context.forward(record.withKey(uid).withValue(state.current()));
            }
        }
    }

    /** Keeps the summary of an event among the latest {@link #HISTORY_LIMIT}, by seq, of its abnormal. */
    private void remember(DiagnosisEvent event, long lastSeq) {
        long seq = event.getSeq();
        if (seq <= lastSeq - HISTORY_LIMIT) {
            return; // arrived after HISTORY_LIMIT later events were folded: already out of the window
        }
        String uid = event.getAbnormalUid();
        history.put(new HistoryKey(uid, seq), EventSummary.of(event));
        if (seq >= HISTORY_LIMIT) {
            history.delete(new HistoryKey(uid, seq - HISTORY_LIMIT));
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
