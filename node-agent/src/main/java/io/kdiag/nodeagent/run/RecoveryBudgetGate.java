package io.kdiag.nodeagent.run;

import io.kdiag.schemas.avro.BudgetVerdict;
import io.kdiag.schemas.avro.NamespacedName;

/**
 * The cluster-wide recovery budgets as the stage runner sees them: whether a recoverer must ask, the arbiter's answer,
 * and the release when the recoverer ended. Without a budget file nothing covers any recoverer and nothing is asked.
 */
public interface RecoveryBudgetGate {
    /** The reason an abnormal ends {@code Failed} with when a budget refused its recovery. */
    String EXCEEDED_REASON = "BudgetExceeded";
    /** The reason an abnormal ends {@code Failed} with when the arbiter did not answer in time (deny by default). */
    String UNANSWERED_REASON = "BudgetUnanswered";

    /** No budgets: no recoverer is covered, nothing is ever asked. */
    RecoveryBudgetGate NONE = new RecoveryBudgetGate() {
        @Override
        public boolean covers(String namespace, NamespacedName recoverer) {
            return false;
        }

        @Override
        public Answer acquire(String uid, String namespace, NamespacedName recoverer) {
            throw new IllegalStateException("no budget covers any recoverer");
        }

        @Override
        public void release(String uid, String namespace, NamespacedName recoverer) {
            throw new IllegalStateException("no budget covers any recoverer");
        }
    };

    /**
     * What the arbiter decided.
     *
     * @param verdict {@code Unknown} when it did not answer in time
     * @param budget the budget that limited it, if one did
     * @param message the arbiter's words, or why there is no answer
     */
    record Answer(BudgetVerdict verdict, String budget, String message) {
    }

    /** Whether a budget covers this recoverer for an abnormal of this namespace, so it must ask first. */
    boolean covers(String namespace, NamespacedName recoverer);

    /** Asks the arbiter and waits for its first answer (at most the configured time). */
    Answer acquire(String uid, String namespace, NamespacedName recoverer) throws InterruptedException;

    /** Gives back what {@link #acquire} was granted (or withdraws what it waits for); does not wait. */
    void release(String uid, String namespace, NamespacedName recoverer);
}
