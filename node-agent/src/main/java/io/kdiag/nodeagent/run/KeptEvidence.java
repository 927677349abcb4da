package io.kdiag.nodeagent.run;

import java.io.IOException;

import io.kdiag.schemas.Evidence;
import io.kdiag.stageworkers.spi.EvidenceStore;

/**
 * The evidence topic as the abnormals see it: every value kept for one, a context value or a profile, counts against the
 * same limits ({@link EvidenceBudget}) before it is written.
 */
public final class KeptEvidence {
    /** A value the limits refuse; the message names the limit. */
    static final class LimitReached extends IOException {
        private static final long serialVersionUID = 1L;

        LimitReached(String message) {
            super(message);
        }
    }

    private final EvidenceStore topic;
    private final EvidenceBudget budget;

    /** {@code topic}: where values go once {@code budget} allows them. */
    public KeptEvidence(EvidenceStore topic, EvidenceBudget budget) {
        this.topic = topic;
        this.budget = budget;
    }

    /** Where one abnormal's values go: {@link LimitReached} for a value beyond a limit. */
    EvidenceStore of(AbnormalRun run) {
        return (content, contentType) -> {
            String refused = budget.refusal(run.evidenceBytes(), content.length);
            if (refused != null) {
                throw new LimitReached("a value of " + content.length + " bytes is " + refused);
            }
            Evidence.Reference reference = topic.store(content, contentType);
            budget.spend(content.length);
            run.keptEvidence(content.length);
            return reference;
        };
    }
}
