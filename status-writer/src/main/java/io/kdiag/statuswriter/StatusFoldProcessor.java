package io.kdiag.statuswriter;

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
 * changed. Counts duplicates, buffer overflows and invalid events as Kafka Streams metrics (group
 * {@code stream-kdiag-status-fold-metrics}), which reach Micrometer with the rest.
 */
final class StatusFoldProcessor implements Processor<String, DiagnosisEvent, String, AbnormalStatus> {
    private static final String METRICS_SCOPE = "kdiag-status-fold";
    private static final Logger LOG = LoggerFactory.getLogger(StatusFoldProcessor.class);

    private final String storeName;
    private ProcessorContext<String, AbnormalStatus> context;
    private KeyValueStore<String, FoldState> store;
    private Sensor duplicates;
    private Sensor overflows;
    private Sensor invalid;

    /** The supplier, carrying the store so {@code process()} connects it. */
    static ProcessorSupplier<String, DiagnosisEvent, String, AbnormalStatus> supplier(String storeName) {
        return new ProcessorSupplier<>() {
            @Override
            public Processor<String, DiagnosisEvent, String, AbnormalStatus> get() {
                return new StatusFoldProcessor(storeName);
            }

            @Override
            public Set<StoreBuilder<?>> stores() {
                return Set.of(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(storeName), Serdes.String(),
                        new FoldStateSerde()).withCachingEnabled());
            }
        };
    }

    private StatusFoldProcessor(String storeName) {
        this.storeName = storeName;
    }

    @Override
    public void init(ProcessorContext<String, AbnormalStatus> context) {
        this.context = context;
        this.store = context.getStateStore(storeName);
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

    @Override
    public void close() {
        StreamsMetrics metrics = context.metrics();
        metrics.removeSensor(duplicates);
        metrics.removeSensor(overflows);
        metrics.removeSensor(invalid);
    }
}
