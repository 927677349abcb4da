package io.kdiag.sourcebridge.gate;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Token buckets that cap how many automatic abnormals start per minute, per node and cluster-wide, so an event storm
 * does not turn into a diagnosis storm. Each bucket holds a minute's worth and refills continuously. Used by the gate
 * thread only; not kept across restarts (a restart starts with full buckets).
 */
final class StormLimiter {
    private static final long MINUTE_NANOS = 60_000_000_000L;

    private final int perNode;
    private final LongSupplier nanoTime;
    private final Bucket cluster;
    private final Map<String, Bucket> nodes = new HashMap<>();

    StormLimiter(int perNodePerMinute, int clusterPerMinute, LongSupplier nanoTime) {
        this.perNode = perNodePerMinute;
        this.nanoTime = nanoTime;
        this.cluster = new Bucket(clusterPerMinute, nanoTime.getAsLong());
    }

    /** Takes a token for {@code node} from both buckets, or names the one that is empty (taking nothing). */
    Verdict.Outcome tryAcquire(String node) {
        long now = nanoTime.getAsLong();
        Bucket bucket = nodes.computeIfAbsent(node, n -> new Bucket(perNode, now));
        bucket.refill(now);
        cluster.refill(now);
        if (bucket.tokens < 1) {
            return Verdict.Outcome.STORM_NODE;
        }
        if (cluster.tokens < 1) {
            return Verdict.Outcome.STORM_CLUSTER;
        }
        bucket.tokens--;
        cluster.tokens--;
        return Verdict.Outcome.FORWARDED;
    }

    /** Gives back a token taken for a transaction that was aborted. */
    void refund(String node) {
        Bucket bucket = nodes.get(node);
        if (bucket != null) {
            bucket.tokens = Math.min(bucket.capacity, bucket.tokens + 1);
        }
        cluster.tokens = Math.min(cluster.capacity, cluster.tokens + 1);
    }

    private static final class Bucket {
        private final int capacity;
        private double tokens;
        private long refilledAt;

        Bucket(int capacity, long now) {
            this.capacity = capacity;
            this.tokens = capacity;
            this.refilledAt = now;
        }

        void refill(long now) {
            tokens = Math.min(capacity, tokens + (double) (now - refilledAt) * capacity / MINUTE_NANOS);
            refilledAt = now;
        }
    }
}
