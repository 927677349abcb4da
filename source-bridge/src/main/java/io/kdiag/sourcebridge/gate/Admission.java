package io.kdiag.sourcebridge.gate;

import java.time.Duration;
import java.util.function.Function;

import io.kdiag.schemas.avro.AbnormalRequest;

/**
 * Which valid requests the gate forwards: one whose uid was not forwarded before, whose fault (repeat key) was not
 * forwarded less than the repeat interval ago, and, from an automatic source, within the storm limits. It decides
 * only; the gate writes what it admits, and remembers it from the moment it sends it. Used by the gate thread only.
 */
final class Admission {
    private final Function<String, Long> lastForwarded;
    private final StormLimiter storm;
    private final Duration repeatInterval;

    /**
     * @param lastForwarded when a state key was last forwarded (sent, whether acknowledged yet or not), or {@code null}
     */
    Admission(Function<String, Long> lastForwarded, StormLimiter storm, Duration repeatInterval) {
        this.lastForwarded = lastForwarded;
        this.storm = storm;
        this.repeatInterval = repeatInterval;
    }

    /** The state key that remembers a forwarded uid. */
    static String uidKey(AbnormalRequest request) {
        return "uid/" + request.getUid();
    }

    /**
     * {@link Verdict.Outcome#FORWARDED} for a request that goes on, having taken a storm token at {@code now} when
     * {@code stormLimited}; otherwise the suppression that applies.
     *
     * @param now epoch milliseconds: the time its state entries and its storm token carry
     */
    Verdict.Outcome admit(AbnormalRequest request, String repeatKey, boolean stormLimited, long now) {
        if (lastForwarded.apply(uidKey(request)) != null) {
            return Verdict.Outcome.DUPLICATE;
        }
        if (repeatKey != null) {
            Long last = lastForwarded.apply(repeatKey);
            if (last != null && now - last < repeatInterval.toMillis()) {
                return Verdict.Outcome.REPEAT_INTERVAL;
            }
        }
        return stormLimited ? storm.tryAcquire(request.getNodeName(), now) : Verdict.Outcome.FORWARDED;
    }

    /** Gives back the storm token taken at {@code at} for a request on {@code node} that was not written after all. */
    void refund(String node, long at) {
        storm.refund(node, at);
    }
}
