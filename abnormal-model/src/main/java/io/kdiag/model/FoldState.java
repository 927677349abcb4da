package io.kdiag.model;

import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.TreeMap;

import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;

/**
 * What the fold keeps per abnormal: the snapshot so far, the events that arrived ahead of their turn, and a summary
 * of each of the latest {@link #HISTORY_LIMIT} events folded in (the query API's history). Feeding it any
 * permutation of an abnormal's events, with duplicates, ends in the same snapshot and history as folding them in seq
 * order. The history lives here rather than in a store of its own so that an event costs one store write and, per
 * commit, one changelog record per abnormal instead of one per event. The status writer, replay and the agent all fold through it.
 */
public final class FoldState {
    /** Out-of-order events kept per abnormal. */
    public static final int MAX_PENDING = 1_000;
    /** Event summaries kept per abnormal. */
    public static final int HISTORY_LIMIT = 500;

    /** What {@link #offer} did with an event. */
    public enum Outcome {
        /** Folded in, with any buffered successors: the snapshot changed. */
        APPLIED,
        /** Already folded in or already buffered: nothing changed. */
        DUPLICATE,
        /** Ahead of its turn: kept until its predecessors arrive. */
        BUFFERED,
        /** Ahead of its turn with the buffer full: the event farthest ahead was dropped. */
        OVERFLOW
    }

    private AbnormalStatus current;
    private final TreeMap<Long, DiagnosisEvent> pending = new TreeMap<>();
    /** In their binary form: each is written once and read only by the history query, not decoded per event. */
    private final Deque<byte[]> history;

    FoldState(AbnormalStatus current, Collection<DiagnosisEvent> pending, Collection<byte[]> history) {
        this.current = current;
        pending.forEach(e -> this.pending.put(e.getSeq(), e));
        this.history = new ArrayDeque<>(history);
    }

    /** The state before any event of an abnormal. */
    public static FoldState empty() {
        return new FoldState(null, List.of(), List.of());
    }

    /** The snapshot so far; {@code null} until the Accepted event was folded in. */
    public AbnormalStatus current() {
        return current;
    }

    /** Buffered events in seq order. */
    public Collection<DiagnosisEvent> pending() {
        return pending.values();
    }

    /** Summaries of the latest {@link #HISTORY_LIMIT} events folded in, in seq order. */
    public List<EventSummary> history() {
        return history.stream().map(EventSummary::decode).toList();
    }

    /** The same summaries, {@link EventSummary#encode() encoded}. */
    Collection<byte[]> encodedHistory() {
        return history;
    }

    /** Seq of the last event folded in; -1 before Accepted. */
    public long lastSeq() {
        return current == null ? -1 : current.getLastSeq();
    }

    /**
     * Takes one event of this abnormal in whatever order it arrived.
     *
     * @throws IllegalArgumentException when seq 0 is not an Accepted event; the state is then unchanged
     */
    public Outcome offer(DiagnosisEvent event, int maxPending) {
        long seq = event.getSeq();
        if (seq <= lastSeq() || pending.containsKey(seq)) {
            return Outcome.DUPLICATE;
        }
        if (seq > lastSeq() + 1) {
            return buffer(event, maxPending);
        }
        apply(event);
        for (DiagnosisEvent next = pending.remove(lastSeq() + 1); next != null; next = pending.remove(lastSeq() + 1)) {
            apply(next);
        }
        return Outcome.APPLIED;
    }

    private void apply(DiagnosisEvent event) {
        current = StatusFold.apply(current, event);
        if (history.size() == HISTORY_LIMIT) {
            history.removeFirst();
        }
        history.addLast(EventSummary.of(event).encode());
    }

    private Outcome buffer(DiagnosisEvent event, int maxPending) {
        if (pending.size() < maxPending) {
            pending.put(event.getSeq(), event);
            return Outcome.BUFFERED;
        }
        // keep the events nearest to the gap: they are the ones that can be folded soonest
        if (event.getSeq() < pending.lastKey()) {
            pending.pollLastEntry();
            pending.put(event.getSeq(), event);
        }
        return Outcome.OVERFLOW;
    }
}
