package io.kdiag.stageworkers;

import java.util.List;

import io.kdiag.schemas.avro.CommandFinished;
import io.kdiag.schemas.avro.Stage;

/**
 * What a command did.
 *
 * @param command the command as given
 * @param stdout its standard output, capped
 * @param stderr its standard error, capped
 * @param error why it did not succeed; {@code null} when it exited with code 0
 * @param status how it ended, for metrics
 * @param durationMillis wall time
 */
public record CommandResult(List<String> command, String stdout, String stderr, String error, Status status, long durationMillis) {

    /** How a command ended. */
    public enum Status {
        /** Exit code 0. */
        SUCCEEDED,
        /** Ran and exited with a non-zero code. */
        EXITED_NON_ZERO,
        /** Could not start. */
        FAILED,
        /** Killed at its timeout. */
        TIMED_OUT,
        /** Not in the allowlist; never started. */
        REFUSED
    }

    /** The event recording this result in a stage. */
    public CommandFinished toEvent(Stage stage) {
        return CommandFinished.newBuilder()
                .setStage(stage)
                .setCommand(command)
                .setStdout(stdout)
                .setStderr(stderr)
                .setError(error)
                .setDurationMillis(durationMillis)
                .build();
    }
}
