package io.kdiag.model;

import io.kdiag.schemas.avro.Phase;

/** What a phase means beyond its name. */
public final class Phases {
    private Phases() {
    }

    /** Whether the abnormal is over: {@code Succeeded} or {@code Failed}. Only command and profiler results follow. */
    public static boolean isFinal(Phase phase) {
        return phase == Phase.Succeeded || phase == Phase.Failed;
    }

    /** The phase as {@code status.phase} writes it: its name, and {@code ""} before the agent accepted the abnormal. */
    public static String apiName(Phase phase) {
        return phase == null || phase == Phase.Unknown ? "" : phase.name();
    }
}
