package io.kdiag.model;

import java.util.Set;

import io.kdiag.schemas.avro.ShadowFinished;
import io.kdiag.schemas.avro.Stage;

/**
 * What a shadow run concluded, read from its {@link ShadowFinished}: a diagnoser identified the fault or not, a
 * recoverer would have acted or not, or the run gave no verdict at all (refused by the policy, not found, failed,
 * timed out, lacking an input, or a recoverer that cannot tell without acting). Runs without a verdict are counted
 * apart, never compared with the real chain.
 */
public enum ShadowVerdict {
    /** A shadow diagnoser identified the fault. */
    IDENTIFIED("Identified", "identified"),
    /** A shadow diagnoser did not identify the fault. */
    NOT_IDENTIFIED("NotIdentified", "not identified"),
    /** A shadow recoverer would have acted. */
    WOULD_ACT("WouldAct", "would act"),
    /** A shadow recoverer would not have acted. */
    WOULD_NOT_ACT("WouldNotAct", "would not act"),
    /** The shadow run gave no verdict. */
    NO_VERDICT("NoVerdict", "no verdict");

    /**
     * The reasons of a run that gave no verdict: those the agent gives when it could not get one (the policy refused,
     * no such processor, a failed or timed-out call, an answer or output it refuses), a missing input, and a recoverer
     * that cannot tell without acting.
     */
    public static final Set<String> NO_VERDICT_REASONS = Set.of("Forbidden", "ProcessorNotFound", "InvalidRegistration", "WrongStage",
            "Timeout", "Error", "RemoteError", "InvalidResponse", "ResponseTooLarge", "OutputTooLarge", "MissingInput", "NoDryRun");

    private final String word;
    private final String text;

    ShadowVerdict(String word, String text) {
        this.word = word;
        this.text = text;
    }

    /** The verdict of a shadow run. */
    public static ShadowVerdict of(ShadowFinished finished) {
        if (!finished.getVerdict() && finished.getReason() != null && NO_VERDICT_REASONS.contains(finished.getReason())) {
            return NO_VERDICT;
        }
        if (finished.getStage() == Stage.Recovery) {
            return finished.getVerdict() ? WOULD_ACT : WOULD_NOT_ACT;
        }
        return finished.getVerdict() ? IDENTIFIED : NOT_IDENTIFIED;
    }

    /** Whether the shadow identified the fault, or would have acted. */
    public boolean positive() {
        return this == IDENTIFIED || this == WOULD_ACT;
    }

    /** CamelCase, as a metric label or a summary's outcome: {@code Identified}, {@code WouldAct}, ... */
    public String word() {
        return word;
    }

    /** As a person reads it: {@code identified}, {@code would act}, ... */
    public String text() {
        return text;
    }
}
