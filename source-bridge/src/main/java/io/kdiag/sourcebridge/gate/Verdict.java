package io.kdiag.sourcebridge.gate;

import io.kdiag.sourcebridge.request.Refusal;

/**
 * What the {@link Gate} did with a {@link Submission}, once Kafka acknowledged its records.
 *
 * @param outcome what happened
 * @param reason for {@link Outcome#REFUSED}, the CamelCase reason; otherwise {@code null}
 * @param message for {@link Outcome#REFUSED}, why; otherwise {@code null}
 */
public record Verdict(Outcome outcome, String reason, String message) {
    /** Forwarded to {@code kdiag.abnormals}. */
    public static final Verdict FORWARDED = new Verdict(Outcome.FORWARDED, null, null);

    /** The possible fates of a submission; the suppressions carry their metric tag. */
    public enum Outcome {
        /** Written to {@code kdiag.abnormals}. */
        FORWARDED(null),
        /** Its uid was forwarded before. */
        DUPLICATE("duplicate"),
        /** The same fault was forwarded less than the repeat interval ago. */
        REPEAT_INTERVAL("repeat-interval"),
        /** Its node's storm limit is exhausted. */
        STORM_NODE("storm-node"),
        /** The cluster-wide storm limit is exhausted. */
        STORM_CLUSTER("storm-cluster"),
        /** The validator refused it. */
        REFUSED(null);

        private final String tag;

        Outcome(String tag) {
            this.tag = tag;
        }

        /** The {@code reason} tag of {@code kdiag_bridge_suppressed_total}, or {@code null} if not a suppression. */
        public String suppressionTag() {
            return tag;
        }
    }

    static Verdict suppressed(Outcome outcome) {
        return new Verdict(outcome, null, null);
    }

    static Verdict refused(Refusal refusal) {
        return new Verdict(Outcome.REFUSED, refusal.reason(), refusal.getMessage());
    }
}
