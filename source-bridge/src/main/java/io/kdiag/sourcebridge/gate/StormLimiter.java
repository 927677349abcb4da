package io.kdiag.sourcebridge.gate;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The storm limits: at most so many automatic abnormals start per node, and over all nodes, in any minute, so that an
 * event storm does not become a diagnosis storm. A sliding window over the starts of the last minute, of every gate of
 * the installation: what this gate starts is counted from the moment it takes the token, what the others (and this
 * gate's previous lives) started arrives from the {@link StormLedger}. So a restart starts with the minute as it was,
 * and the log sources of all nodes and the bridge share one cluster-wide budget. Gates that take tokens at the same
 * moment can overshoot the budget by what they take before they read each other's starts (the ledger's read lag). Used
 * by the gate thread only.
 */
final class StormLimiter {
    private static final long WINDOW_MILLIS = 60_000;

    private final int perNode;
    private final int cluster;
    private final LongSupplier clock;
    /** Start times within the window, all nodes, oldest first; and the same per node. */
    private final Deque<Long> all = new ArrayDeque<>();
    private final Map<String, Deque<Long>> byNode = new HashMap<>();

    /**
     * @param perNodePerMinute starts per node within a minute
     * @param clusterPerMinute starts of all nodes within a minute
     * @param clock epoch milliseconds, the time of the ledger's records
     */
    StormLimiter(int perNodePerMinute, int clusterPerMinute, LongSupplier clock) {
        this.perNode = perNodePerMinute;
        this.cluster = clusterPerMinute;
        this.clock = clock;
    }

    /**
     * Takes a token for {@code node}, counting it as started at {@code now} (epoch milliseconds, what {@link #refund}
     * names it by), or names the limit that is reached (taking nothing).
     */
    Verdict.Outcome tryAcquire(String node, long now) {
        forgetBefore(now - WINDOW_MILLIS);
        Deque<Long> nodeStarts = byNode.get(node);
        if (nodeStarts != null && nodeStarts.size() >= perNode) {
            return Verdict.Outcome.STORM_NODE;
        }
        if (all.size() >= cluster) {
            return Verdict.Outcome.STORM_CLUSTER;
        }
        started(node, now);
        return Verdict.Outcome.FORWARDED;
    }

    /** Gives back the token taken for {@code node} at {@code at}, whose abnormal was not written after all. */
    void refund(String node, long at) {
        Deque<Long> nodeStarts = byNode.get(node);
        if (nodeStarts != null && nodeStarts.removeLastOccurrence(at)) {
            all.removeLastOccurrence(at);
        }
    }

    /** Counts a start of another gate (or of a previous life of this one) that the ledger reported. */
    void started(String node, long at) {
        if (at < clock.getAsLong() - WINDOW_MILLIS) {
            return;
        }
        insert(all, at);
        insert(byNode.computeIfAbsent(node, n -> new ArrayDeque<>()), at);
    }

    /** Keeps a window ordered by time: starts from the ledger can be older than those taken here. */
    private static void insert(Deque<Long> window, long at) {
        if (window.isEmpty() || window.peekLast() <= at) {
            window.addLast(at);
            return;
        }
        Deque<Long> later = new ArrayDeque<>();
        while (!window.isEmpty() && window.peekLast() > at) {
            later.addFirst(window.removeLast());
        }
        window.addLast(at);
        window.addAll(later);
    }

    private void forgetBefore(long oldest) {
        while (!all.isEmpty() && all.peekFirst() < oldest) {
            all.removeFirst();
        }
        byNode.values().removeIf(starts -> {
            while (!starts.isEmpty() && starts.peekFirst() < oldest) {
                starts.removeFirst();
            }
            return starts.isEmpty();
        });
    }
}
