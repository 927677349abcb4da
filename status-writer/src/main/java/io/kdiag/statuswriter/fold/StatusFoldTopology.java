package io.kdiag.statuswriter.fold;

import java.time.Duration;
import java.util.function.Consumer;

import io.kdiag.schemas.Topic;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;

/**
 * The status fold: {@code diagnosis-events} (key node name) → per-abnormal fold state → {@code abnormal-status}
 * (key uid). All events of an abnormal are keyed by its node and so share one partition, which is all the fold
 * needs: the store is keyed by uid within that partition's task and nothing is repartitioned.
 */
public final class StatusFoldTopology {
    /** Name of the persistent store of fold states, keyed by abnormal uid. */
    public static final String STORE_NAME = "status-fold-store";
    /** Name of the persistent store of the uids whose snapshot changed since it was last published. */
    public static final String DIRTY_STORE_NAME = "status-dirty-store";

    private StatusFoldTopology() {
    }

    /**
     * The topology over the catalogue's topics and serdes.
     *
     * @param flushInterval how often (wall-clock) the latest snapshot of each abnormal changed since is published
     */
    public static Topology build(Topics topics, Duration flushInterval) {
        return build(topics, flushInterval, snapshot -> {
        });
    }

    /**
     * The topology, also handing every published snapshot to {@code onSnapshot} on the stream thread (which must not
     * block). Under exactly-once a snapshot can be handed over again when a transaction is retried; it is the same
     * snapshot, since the fold is a pure function of the events.
     */
    public static Topology build(Topics topics, Duration flushInterval, Consumer<AbnormalStatus> onSnapshot) {
        Topic<String, DiagnosisEvent> events = topics.diagnosisEvents();
        Topic<String, AbnormalStatus> status = topics.abnormalStatus();
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(events.name(), Consumed.with(events.keySerde(), events.valueSerde()).withName("diagnosis-events"))
                .process(StatusFoldProcessor.supplier(STORE_NAME, DIRTY_STORE_NAME, flushInterval), Named.as("status-fold"))
                .peek((uid, snapshot) -> onSnapshot.accept(snapshot), Named.as("status-projection"))
                .to(status.name(), Produced.with(status.keySerde(), status.valueSerde()).withName("abnormal-status"));
        return builder.build();
    }
}
