package io.kdiag.sourcebridge.gate;

import java.time.Duration;
import java.util.Map;
import java.util.function.Function;

import io.kdiag.schemas.avro.AbnormalRequest;

/**
 * Which valid requests the gate forwards: one whose uid was not forwarded before, whose fault (repeat key) was not
 * forwarded less than the repeat interval ago, and, from an automatic source, within the storm limits. It decides
 * only; the gate writes what it admits, with the state entries that remember it, in one transaction. Used by the gate
 * thread only.
 */
final class Admission {
    private final Function<String, Long> lastCommitted;
    private final StormLimiter storm;
    private final Duration repeatInterval;

    /**
     * @param lastCommitted when a state key was last forwarded in a committed transaction, or {@code null}
     */
    Admission(Function<String, Long> lastCommitted, StormLimiter storm, Duration repeatInterval) {
        this.lastCommitted = lastCommitted;
        this.storm = storm;
        this.repeatInterval = repeatInterval;
    }

    /** The state key that remembers a forwarded uid. */
    static String uidKey(AbnormalRequest request) {
        return "uid/" + request.getUid();
    }

    /**
     * {@link Verdict.Outcome#FORWARDED} for a request that goes on, having taken a storm token when
     * {@code stormLimited}; otherwise the suppression that applies.
     *
     * @param uncommitted the state entries of the transaction in hand, which count as forwarded already
     * @param now the time those entries carry
     */
    Verdict.Outcome admit(AbnormalRequest request, String repeatKey, boolean stormLimited, Map<String, Long> uncommitted, long now) {
        if (lastForwarded(uidKey(request), uncommitted) != null) {
            return Verdict.Outcome.DUPLICATE;
        }
        if (repeatKey != null) {
            Long last = lastForwarded(repeatKey, uncommitted);
            if (last != null && now - last < repeatInterval.toMillis()) {
                return Verdict.Outcome.REPEAT_INTERVAL;
            }
        }
        return stormLimited ? storm.tryAcquire(request.getNodeName()) : Verdict.Outcome.FORWARDED;
    }

    /** Gives back the storm token taken for a request on {@code node} whose transaction was aborted. */
    void refund(String node) {
        storm.refund(node);
    }

    /** The transaction in hand committed: its storm tokens stay taken. */
    void committed() {
        storm.committed();
    }

    private Long lastForwarded(String key, Map<String, Long> uncommitted) {
        return uncommitted.containsKey(key) ? uncommitted.get(key) : lastCommitted.apply(key);
    }
}
