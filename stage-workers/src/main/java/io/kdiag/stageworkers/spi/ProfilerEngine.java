package io.kdiag.stageworkers.spi;

import java.time.Duration;

import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.schemas.Evidence;

/**
 * Profiles one kind of program ({@code spec.profilers[]} with {@code go}, {@code java} or {@code python} set) and
 * stores the result as evidence, which the status writer serves as long as the history lasts. Engines are found with
 * {@link java.util.ServiceLoader}.
 */
public interface ProfilerEngine {
    /** The {@code spec.profilers[]} field this engine handles: {@code go}, {@code java} or {@code python}. */
    String language();

    /**
     * Takes the profile.
     *
     * @param spec the profiler as the Abnormal gives it
     * @param ctx the abnormal and the node
     * @param timeout how long profiling may take ({@code timeoutSeconds}, default 30 s)
     * @param evidence where the page and its raw files go, within the abnormal's evidence limits
     * @return the page to serve: an HTML page (a flame graph, a report) that links any raw files by their
     *         {@link io.kdiag.schemas.Evidence.Reference#path()}, which is relative to the page's own
     * @throws ProfilerException with a message for the user when the profile cannot be taken or kept
     */
    Evidence.Reference profile(ProfilerSpec spec, WorkContext ctx, Duration timeout, EvidenceStore evidence) throws ProfilerException;

    /** A profile that could not be taken, with a message that says why. */
    final class ProfilerException extends Exception {
        private static final long serialVersionUID = 1L;

        /** A failure with a message for the user. */
        public ProfilerException(String message) {
            super(message);
        }

        /** A failure with a message for the user and its cause. */
        public ProfilerException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
