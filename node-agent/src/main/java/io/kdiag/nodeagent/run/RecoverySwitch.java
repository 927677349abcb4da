package io.kdiag.nodeagent.run;

import io.kdiag.schemas.avro.RecoveryControl;

/**
 * Whether this agent may start recoveries: the latest record of the recovery-control topic, as
 * {@code RecoveryControlFollower} reads it. Deny by default: until the topic has been read to the end it was at when the
 * agent started, recoveries are paused, so a restarted agent cannot slip a recovery in before it learns of a pause; a
 * record that cannot be read pauses too, since it may have been a pause. Read by the stage runner before each
 * recoverer; written by the follower's thread.
 */
public final class RecoverySwitch {
    /** The reason an abnormal ends {@code Failed} with when its recovery was refused. */
    public static final String PAUSED_REASON = "RecoveryPaused";

    private volatile String pausedBecause = "the agent has not yet read the recovery-control topic to its end since it started";
    private volatile boolean caughtUp;
    private volatile String latest;

    /** Why recoveries are paused, naming who paused them and when; {@code null} when they may run. */
    public String pausedBecause() {
        return pausedBecause;
    }

    /** Whether recoveries are paused now (the gauge {@code kdiag_recoveries_paused}). */
    public boolean paused() {
        return pausedBecause != null;
    }

    /** Whether the topic has been read to the end it had at start. */
    public boolean hasReadToEnd() {
        return caughtUp;
    }

    /** The topic has been read to the end it had at start: from now on its latest record decides. */
    public void readToEnd() {
        caughtUp = true;
        pausedBecause = latest;
    }

    /** The latest record: a pause or a resume; {@code null} (a tombstone) is no record at all, which lets recoveries run. */
    public void apply(RecoveryControl control) {
        set(control == null || !control.getPaused() ? null
                : "recoveries are paused cluster-wide by " + control.getChangedBy() + " at " + control.getChangedAt()
                        + (control.getReason() == null ? "" : " (" + control.getReason() + ")")
                        + "; 'kdiag recoveries resume' lets them run again");
    }

    /** The latest record could not be read: paused until a readable one follows. */
    public void unreadable(String why) {
        set("the latest recovery-control record cannot be read (" + why + "); recoveries stay paused until 'kdiag recoveries"
                + " pause' or 'resume' writes a readable one");
    }

    private void set(String reason) {
        latest = reason;
        if (caughtUp) {
            pausedBecause = reason;
        }
    }
}
