package io.kdiag.stageworkers.spi;

import java.time.Duration;

import io.kdiag.schemas.avro.Stage;

/**
 * An in-process collector, diagnoser or recoverer. A worker returns data and never talks to Kafka: the agent turns
 * its result into events. Implementations are found with {@link java.util.ServiceLoader} and must be thread-safe,
 * since a call that timed out may still be running when the next one starts.
 */
public interface StageWorker {
    /** The stable name a processor reference uses, e.g. {@code process-collector}. */
    String name();

    /** The stage this worker belongs to. */
    Stage stage();

    /**
     * How long a call may take when no registration of this name gives a {@code timeoutSeconds}; KubeDiag's default
     * for a registration without one is 30 s. The policy's {@code maxTimeoutSeconds} caps it.
     */
    default Duration timeout() {
        return Duration.ofSeconds(30);
    }

    /**
     * Does the work for one abnormal.
     *
     * @param ctx the abnormal, its context so far and the host
     * @return the context entries to set and remove, or why it failed
     * @throws Exception any failure; the runner reports it as a failed result
     */
    WorkResult run(WorkContext ctx) throws Exception;

    /**
     * What a recoverer's {@link #run} would do for this abnormal, worked out without doing anything: a recoverer in
     * shadow mode is asked this instead of being run. A recoverer that cannot tell without acting keeps this default,
     * which says so ({@code NoDryRun}); collectors and diagnosers are never asked.
     *
     * @param ctx the abnormal, its context so far and the host, as {@link #run} would get them
     * @return the plan, or why it would not act
     * @throws Exception any failure; the runner reports it as a plan that does not act
     */
    default RecoveryPlan plan(WorkContext ctx) throws Exception {
        return RecoveryPlan.notActing("NoDryRun", name() + " cannot tell what it would do without doing it");
    }
}
