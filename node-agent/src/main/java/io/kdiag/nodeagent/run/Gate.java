package io.kdiag.nodeagent.run;

/**
 * Something an abnormal can wait for before a stage's work goes on, parked ({@link Parking}) so that the agent takes
 * other abnormals meanwhile: a person's approval, or (later) a recovery budget. The stage runner asks the gate and parks
 * the abnormal; an answer, or the deadline, lets it go on or ends its stage {@code Failed}.
 */
public interface Gate {
    /** The gate's name, kept with each abnormal parked at it; an answer of another gate never resumes that abnormal. */
    String name();

    /** The answer an abnormal gets when its deadline passed without one. */
    Answer expired(Parking.Parked parked);

    /**
     * How a wait ends.
     *
     * @param event the payload recorded first (e.g. {@code ApprovalDecided}), at the parked abnormal's next seq; {@code null}
     *     for none
     * @param proceed whether the stage's work goes on; if not, the stage ends {@code Failed} with this reason and message
     */
    record Answer(Object event, boolean proceed, String reason, String message) {
        /** Lets the stage go on. */
        public static Answer proceed(Object event) {
            return new Answer(event, true, null, null);
        }

        /** Ends the stage {@code Failed}. */
        public static Answer refuse(Object event, String reason, String message) {
            return new Answer(event, false, reason, message);
        }
    }
}
