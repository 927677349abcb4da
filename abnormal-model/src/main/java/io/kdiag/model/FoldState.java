package io.kdiag.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
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
 *
 * <p>It stays smaller than one Kafka record: the snapshot within {@link StatusBudget#MAX_STATUS_BYTES}, the buffered
 * events within {@link #MAX_PENDING_BYTES}, the history within {@link #MAX_HISTORY_BYTES}. An event the fold refuses
 * (seq 0 that is not {@code Accepted}, context updates that are not a JSON object) is given up with its reason; in
 * its turn after the snapshot began, it counts as folded (it moves nothing but {@code lastSeq}), so the events after it
 * still fold.
 */
public final class FoldState {
    /** Out-of-order events kept per abnormal. */
    public static final int MAX_PENDING = 1_000;
    /** Encoded bytes of the out-of-order events kept per abnormal. */
    public static final int MAX_PENDING_BYTES = 256 * 1024;
    /** Event summaries kept per abnormal. */
    public static final int HISTORY_LIMIT = 500;
    /** Encoded bytes of the event summaries kept per abnormal. */
    public static final int MAX_HISTORY_BYTES = 192 * 1024;

    /** What {@link #offer} did with an event. */
    public enum Outcome {
        /** Folded in, with any buffered successors: the snapshot changed. */
        APPLIED,
        /** Already folded in or already buffered: nothing changed. */
        DUPLICATE,
        /** Ahead of its turn: kept until its predecessors arrive. */
        BUFFERED,
        /** Ahead of its turn with the buffer full: the event farthest ahead was given up. */
        OVERFLOW,
        /** Refused by the fold; in its turn after the snapshot began, only {@code lastSeq} moved. */
        REFUSED
    }

    /**
     * An event the fold gave up on.
     *
     * @param event the event
     * @param reason why, in a sentence
     */
    public record GivenUp(DiagnosisEvent event, String reason) {
    }

    /**
     * What {@link #offer} did.
     *
     * @param outcome what became of the event offered
     * @param givenUp every event given up meanwhile, the one offered included when it was: to be dead-lettered
     */
    public record Offer(Outcome outcome, List<GivenUp> givenUp) {
    }

    private AbnormalStatus current;
    private final TreeMap<Long, DiagnosisEvent> pending = new TreeMap<>();
    /** In their binary form: each is written once and read only by the history query, not decoded per event. */
    private final Deque<byte[]> history;
    private int historyBytes;
    private int pendingBytes;
    /** Not stored: lives as long as this object, which the status writer keeps across events ({@link #offer}). */
    private final ParsedContext parsedContext = new ParsedContext();

    FoldState(AbnormalStatus current, Collection<DiagnosisEvent> pending, Collection<byte[]> history) {
        this.current = current;
        pending.forEach(e -> {
            this.pending.put(e.getSeq(), e);
            pendingBytes += encodedBytes(e);
        });
        this.history = new ArrayDeque<>(history);
        history.forEach(h -> historyBytes += h.length);
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

    /**
     * Roughly the heap this state takes, in bytes: its text and encoded parts, without the objects around them. For a
     * cache of states to stay within a budget; not the size of its record.
     */
    public long approximateBytes() {
        return (current == null ? 0 : StatusBudget.textChars(current)) + pendingBytes + historyBytes;
    }

    /** How many contexts this state's fold parsed rather than merged into the members it kept of them. */
    int contextParses() {
        return parsedContext.parses();
    }

    /** Seq of the last event folded in; -1 before Accepted. */
    public long lastSeq() {
        return current == null ? -1 : current.getLastSeq();
    }

    /** Takes one event of this abnormal in whatever order it arrived. */
    public Offer offer(DiagnosisEvent event, int maxPending) {
        long seq = event.getSeq();
        if (seq <= lastSeq() || pending.containsKey(seq)) {
            return new Offer(Outcome.DUPLICATE, List.of());
        }
        List<GivenUp> givenUp = new ArrayList<>();
        if (seq > lastSeq() + 1) {
            return new Offer(buffer(event, maxPending, givenUp), givenUp);
        }
        boolean folded = apply(event, givenUp);
        for (DiagnosisEvent next = pending.remove(lastSeq() + 1); next != null; next = pending.remove(lastSeq() + 1)) {
            pendingBytes -= encodedBytes(next);
            apply(next, givenUp);
        }
        return new Offer(folded ? Outcome.APPLIED : Outcome.REFUSED, givenUp);
    }

    /** Folds the event in its turn; {@code false} when the fold refused it. */
    private boolean apply(DiagnosisEvent event, List<GivenUp> givenUp) {
        try {
            current = StatusFold.apply(current, event, parsedContext);
        } catch (IllegalArgumentException e) {
            givenUp.add(new GivenUp(event, e.getMessage()));
            if (current != null) {
                // its seq is spent: the events after it still fold
                current = AbnormalStatus.newBuilder(current).setLastSeq(event.getSeq()).build();
            }
            return false;
        }
        byte[] summary = EventSummary.of(event).encode();
        history.addLast(summary);
        historyBytes += summary.length;
        while (history.size() > HISTORY_LIMIT || historyBytes > MAX_HISTORY_BYTES) {
            historyBytes -= history.removeFirst().length;
        }
        return true;
    }

    private Outcome buffer(DiagnosisEvent event, int maxPending, List<GivenUp> givenUp) {
        pending.put(event.getSeq(), event);
        pendingBytes += encodedBytes(event);
        Outcome outcome = Outcome.BUFFERED;
        // keep the events nearest to the gap: they are the ones that can be folded soonest
        while (pending.size() > maxPending || pendingBytes > MAX_PENDING_BYTES) {
            DiagnosisEvent farthest = pending.pollLastEntry().getValue();
            pendingBytes -= encodedBytes(farthest);
            givenUp.add(new GivenUp(farthest, "out of order with " + maxPending + " events or " + MAX_PENDING_BYTES
                    + " bytes already waiting for seq " + (lastSeq() + 1)));
            outcome = Outcome.OVERFLOW;
        }
        return outcome;
    }

    private static int encodedBytes(DiagnosisEvent event) {
        try {
            return event.toByteBuffer().remaining();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in memory: cannot happen
        }
    }
}
