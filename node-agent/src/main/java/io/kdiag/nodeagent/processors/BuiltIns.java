package io.kdiag.nodeagent.processors;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import io.kdiag.nodeagent.policy.Policy;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.RemoteProcessor;
import io.kdiag.stageworkers.WorkerCatalog;
import io.kdiag.stageworkers.WorkerRunner;
import io.kdiag.stageworkers.spi.RecoveryPlan;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;

/**
 * The agent's in-process workers and the one way to run them, whether a stage or the HTTP endpoint asks: the policy
 * is checked first (the processor grant, and the targets of the signal recoverer), then the worker runs with its
 * timeout: the {@code timeoutSeconds} of a registration of the same namespace/name if there is one (30 s when it gives
 * none), as KubeDiag called its built-ins through their registrations, else the worker's own default (KubeDiag's
 * registrations' values), capped by the policy's {@code maxTimeoutSeconds}.
 */
public final class BuiltIns {
    /** The built-in recoverer whose {@code signalRecovery} targets the policy checks before it runs. */
    static final String SIGNAL_RECOVERER = "signal-recoverer";
    /** Its input key. */
    static final String SIGNAL_RECOVERY = "signalRecovery";

    private final String namespace;
    private final WorkerCatalog catalog;
    private final WorkerRunner runner;
    private final Registrations registrations;
    private final Supplier<Policy> policy;

    /**
     * @param namespace the namespace of references to built-ins ({@code kdiag.builtin-namespace})
     * @param runner runs a worker with its timeout and output cap
     * @param registrations where a registration of a built-in's name gives its timeout
     */
    public BuiltIns(String namespace, WorkerCatalog catalog, WorkerRunner runner, Registrations registrations, Supplier<Policy> policy) {
        this.namespace = namespace;
        this.catalog = catalog;
        this.runner = runner;
        this.registrations = registrations;
        this.policy = policy;
    }

    /** Namespace of references to built-ins ({@code kdiag.builtin-namespace}). */
    public String namespace() {
        return namespace;
    }

    /** The built-in a reference names, if it names one. */
    Optional<StageWorker> find(String referenceNamespace, String name) {
        return namespace.equals(referenceNamespace) ? catalog.find(name) : Optional.empty();
    }

    /** Every built-in of a stage, in class-path order. */
    public List<StageWorker> of(Stage stage) {
        return catalog.ofStage(stage);
    }

    /**
     * Runs a built-in for an abnormal of {@code origin}; never throws for the worker's faults.
     *
     * @param grantChecked whether the caller already checked the processor grant (a registration that points at this
     *        agent was checked under its own name)
     * @throws InterruptedException if the calling thread is interrupted
     */
    public WorkResult run(StageWorker worker, Stage stage, WorkContext ctx, Origin origin, boolean grantChecked) throws InterruptedException {
        Policy current = policy.get();
        WorkResult refused = refusal(worker, stage, ctx, origin, grantChecked, current);
        if (refused != null) {
            return refused;
        }
        String refusedSignal = refusedSignal(worker, ctx, current);
        if (refusedSignal != null) {
            return WorkResult.failed("Forbidden", refusedSignal);
        }
        return runner.run(worker, ctx, timeout(worker, current));
    }

    /**
     * What a built-in recoverer would do for an abnormal of {@code origin}, without doing it: checked against the grant
     * first, as a run is (without one, nothing of it runs); a plan the policy would then refuse (a signal to a process
     * never signalled) is kept, refused ({@code Forbidden}). Never throws for the worker's faults.
     *
     * @throws InterruptedException if the calling thread is interrupted
     */
    public RecoveryPlan plan(StageWorker worker, WorkContext ctx, Origin origin) throws InterruptedException {
        Policy current = policy.get();
        WorkResult refused = refusal(worker, Stage.Recovery, ctx, origin, false, current);
        if (refused != null) {
            return RecoveryPlan.notActing(refused.reason(), refused.message());
        }
        RecoveryPlan plan = runner.plan(worker, ctx, timeout(worker, current));
        String refusedSignal = plan.wouldAct() ? refusedSignal(worker, ctx, current) : null;
        return refusedSignal == null ? plan : plan.refused("Forbidden", refusedSignal);
    }

    /** Why the policy refuses the signals the signal recoverer's input asks for, or {@code null}; {@code null} for other workers. */
    private static String refusedSignal(StageWorker worker, WorkContext ctx, Policy current) {
        return worker.name().equals(SIGNAL_RECOVERER) ? current.signals(ctx.lookup(SIGNAL_RECOVERY), ctx.agentPid()) : null;
    }

    /** A failed result when {@code worker} may not run in {@code stage} for this abnormal, else {@code null}. */
    private WorkResult refusal(StageWorker worker, Stage stage, WorkContext ctx, Origin origin, boolean grantChecked, Policy current) {
        if (worker.stage() != stage) {
            return WorkResult.failed("WrongStage", "processor " + namespace + "/" + worker.name() + " runs in stage " + worker.stage()
                    + ", not " + stage);
        }
        if (!grantChecked) {
            String refused = current.processor(ctx.namespace(), origin, namespace, worker.name());
            if (refused != null) {
                return WorkResult.failed("Forbidden", refused);
            }
        }
        return null;
    }

    /** How long a call of {@code worker} may take under {@code current}. */
    Duration timeout(StageWorker worker, Policy current) {
        Duration requested = registrations.find(worker.stage(), namespace, worker.name())
                .map(r -> Duration.ofSeconds(current.timeoutSeconds(r.spec().timeoutSeconds, RemoteProcessor.DEFAULT_TIMEOUT_SECONDS)))
                .orElse(worker.timeout());
        return current.timeout(requested);
    }
}
