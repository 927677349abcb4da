package io.kdiag.stageworkers.spi;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a recoverer would do for an abnormal, worked out without doing it: a shadow run reports it instead of acting.
 *
 * @param wouldAct whether the recoverer would act
 * @param plan what it would do, as JSON-like data (the signal recoverer: the pids and signals); {@code null} when it
 *     could not tell
 * @param reason why it would not act, in CamelCase; {@code null} when it would
 * @param message what a person reads about it; may be {@code null}
 */
public record RecoveryPlan(boolean wouldAct, Map<String, Object> plan, String reason, String message) {
    /** Copies the plan, read-only. */
    public RecoveryPlan {
        plan = plan == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(plan));
        if (!wouldAct) {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** The recoverer would act, doing {@code plan}. */
    public static RecoveryPlan acting(Map<String, Object> plan, String message) {
        return new RecoveryPlan(true, Objects.requireNonNull(plan, "plan"), null, message);
    }

    /** The recoverer would not act (its input is missing or invalid, say), for this reason. */
    public static RecoveryPlan notActing(String reason, String message) {
        return new RecoveryPlan(false, null, reason, message);
    }

    /** This plan, refused: the recoverer would not be let act ({@code Forbidden} by the policy, say). */
    public RecoveryPlan refused(String refusedReason, String refusedMessage) {
        return new RecoveryPlan(false, plan, refusedReason, refusedMessage);
    }
}
