package io.kdiag.statuswriter.fold;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

import io.kdiag.model.FoldState;

/**
 * The fold states a task folded lately, as the objects it wrote to its store, within a byte budget, least recently
 * used out first. An abnormal's events arrive one after the other: keeping its state saves reading and decoding it
 * from the store at every event (a fifth of the stream thread's CPU), and lets the state keep what it parsed. The
 * store stays the truth: every change is written to it as before, and whoever changes a state here without writing it
 * must {@link #remove} it.
 */
final class LiveFoldStates {
    private record Entry(FoldState state, long bytes) {
    }

    private final long maxBytes;
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(64, 0.75f, true);
    private long bytes;

    /** @param maxBytes what the states kept may take ({@link FoldState#approximateBytes()}) */
    LiveFoldStates(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** The state of {@code uid} as last {@link #put}, or {@code null}. */
    FoldState get(String uid) {
        Entry entry = entries.get(uid);
        return entry == null ? null : entry.state();
    }

    /** Keeps {@code state}, just written to the store, dropping the least recently used beyond the budget. */
    void put(String uid, FoldState state) {
        Entry entry = new Entry(state, state.approximateBytes());
        Entry previous = entries.put(uid, entry);
        bytes += entry.bytes() - (previous == null ? 0 : previous.bytes());
        for (Iterator<Map.Entry<String, Entry>> eldest = entries.entrySet().iterator(); bytes > maxBytes && eldest.hasNext(); ) {
            bytes -= eldest.next().getValue().bytes();
            eldest.remove();
        }
    }

    /** Forgets the state of {@code uid}: it is final, or it changed without reaching the store. */
    void remove(String uid) {
        Entry entry = entries.remove(uid);
        if (entry != null) {
            bytes -= entry.bytes();
        }
    }

    /** Forgets every state: the store may be another from now on (a task initialized again, restored). */
    void clear() {
        entries.clear();
        bytes = 0;
    }

    int size() {
        return entries.size();
    }
}
