package io.kdiag.statuswriter.fold;

import java.time.Duration;
import java.util.function.Consumer;

import io.kdiag.schemas.Topic;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import org.apache.kafka.streams.Topology;

/**
 * The status fold: {@code diagnosis-events} (key node name) → per-abnormal fold state → {@code abnormal-status}
 * (key uid), and the events the fold gives up on → {@code dead-letters}. All events of an abnormal are keyed by its node
 * and so share one partition, which is all the fold needs: the store is keyed by uid within that partition's task and
 * nothing is repartitioned.
 */
public final class StatusFoldTopology {
    /** Name of the persistent store of fold states, keyed by abnormal uid. */
    public static final String STORE_NAME = "status-fold-store";
    /** Name of the changelogged store marking the abnormals not final yet, whose snapshot a restart publishes again. */
    public static final String DIRTY_STORE_NAME = "status-dirty-store";
    static final String SOURCE = "diagnosis-events";
    static final String FOLD = "status-fold";
    static final String STATUS_SINK = "abnormal-status";
    static final String DEAD_LETTER_SINK = "dead-letters";

    private StatusFoldTopology() {
    }

    /**
     * The topology over the catalogue's topics and serdes, handing every published snapshot to {@code onSnapshot} on the
     * stream thread (which must not block). A snapshot can be handed over again (the events since the last commit are
     * read again after a crash, and a restarted task publishes every abnormal not final yet); it is the same snapshot,
     * since the fold is a pure function of the events.
     *
     * @param flushInterval how often (wall-clock) the latest snapshot of each abnormal changed since is published
     * @param deadLetters where the events the fold gives up on are counted and copied
     */
    public static Topology build(Topics topics, Duration flushInterval, Consumer<AbnormalStatus> onSnapshot, WriterDeadLetters deadLetters) {
        Topic<String, DiagnosisEvent> events = topics.diagnosisEvents();
        Topic<String, AbnormalStatus> status = topics.abnormalStatus();
        Topic<byte[], byte[]> letters = topics.deadLetters();
        Topology topology = new Topology();
        topology.addSource(SOURCE, events.keySerde().deserializer(), events.valueSerde().deserializer(), events.name());
        topology.addProcessor(FOLD, StatusFoldProcessor.supplier(STORE_NAME, DIRTY_STORE_NAME, flushInterval, onSnapshot, deadLetters,
                events.valueSerde().serializer()), SOURCE);
        topology.addSink(STATUS_SINK, status.name(), status.keySerde().serializer(), status.valueSerde().serializer(), FOLD);
        topology.addSink(DEAD_LETTER_SINK, letters.name(), letters.keySerde().serializer(), letters.valueSerde().serializer(), FOLD);
        return topology;
    }
}
