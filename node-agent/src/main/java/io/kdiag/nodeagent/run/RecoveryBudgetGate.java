package io.kdiag.nodeagent.run;

import java.time.Duration;
import java.util.List;

import io.kdiag.schemas.avro.BudgetVerdict;
import io.kdiag.schemas.avro.NamespacedName;

/**
 * The cluster-wide recovery budgets as the stage runner sees them: whether a recoverer must ask, the arbiter's answer,
 * and the release when the recoverer ended. Without a budget file nothing covers any recoverer and nothing is asked. An
 * answer that comes when nobody waits for it (a {@code Granted} after a {@code Waiting}) is kept for
 * {@link #lateAnswers}: the abnormal that waits for it is parked ({@link BudgetWaits}).
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
        public void ask(String uid, String namespace, NamespacedName recoverer) {
            throw new IllegalStateException("no budget covers any recoverer");
        }

        @Override
        public List<Late> lateAnswers() {
            return List.of();
        }

        @Override
        public Duration maxWait() {
            return Duration.ZERO;
        }

        @Override
        public Duration answerTimeout() {
            return Duration.ZERO;
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

    /** An answer nobody was waiting for when it came, for the abnormal {@code uid} and this recoverer. */
    record Late(String uid, NamespacedName recoverer, Answer answer) {
    }

    /** Whether a budget covers this recoverer for an abnormal of this namespace, so it must ask first. */
    boolean covers(String namespace, NamespacedName recoverer);

    /** Asks the arbiter and waits for its first answer (at most the configured time). */
    Answer acquire(String uid, String namespace, NamespacedName recoverer) throws InterruptedException;

    /** Asks again without waiting: the answer comes as a {@link #lateAnswers late answer} (a parked abnormal after a restart). */
    void ask(String uid, String namespace, NamespacedName recoverer);

    /** The answers that came since the last call with nobody waiting for them, oldest first. */
    List<Late> lateAnswers();

    /** How long the arbiter lets a recovery wait for room ({@code maxWait} of the budget file). */
    Duration maxWait();

    /** How long {@link #acquire} waits for an answer. */
    Duration answerTimeout();

    /** Gives back what {@link #acquire} was granted (or withdraws what it waits for); does not wait. */
    void release(String uid, String namespace, NamespacedName recoverer);
}
