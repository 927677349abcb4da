package io.kdiag.nodeagent.run;

import java.time.Duration;
import java.util.function.Supplier;

import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.nodeagent.policy.Policy;
import io.kdiag.nodeagent.processors.Profilers;
import io.kdiag.schemas.Evidence;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.ProfilerFinished;
import io.kdiag.schemas.avro.Stage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the {@code spec.profilers} of a stage, each once the policy allows it, and emits a {@code ProfilerFinished}
 * for each: where the status writer serves its page, kept as evidence ({@code /api/v1/evidence/...}, a path on the
 * status writer's query API), or why there is none. A profiler never changes the phase.
 */
public final class StageProfilers {
    private static final Logger LOG = LoggerFactory.getLogger(StageProfilers.class);

    private final Supplier<Policy> policy;
    private final Profilers profilers;
    private final KeptEvidence evidence;
    private final AgentMetrics metrics;

    /** {@code evidence}: where the profiles go, within the abnormal's evidence limits. */
    public StageProfilers(Supplier<Policy> policy, Profilers profilers, KeptEvidence evidence, AgentMetrics metrics) {
        this.policy = policy;
        this.profilers = profilers;
        this.evidence = evidence;
        this.metrics = metrics;
    }

    void run(Stage stage, AbnormalRun run) throws InterruptedException {
        AbnormalRequest request = run.request();
        for (ProfilerSpec profiler : AbnormalRun.inStage(run.spec().profilers, p -> p.type, stage)) {
            Policy current = policy.get();
            String language = Profilers.language(profiler);
            String refused = current.profiler(request.getNamespace(), request.getOrigin(), language);
            ProfilerFinished event;
            if (refused != null) {
                event = new ProfilerFinished(stage, profiler.name, null, "Forbidden: " + refused);
            } else {
                Duration timeout = Duration.ofSeconds(current.timeoutSeconds(profiler.timeoutSeconds, Profilers.DEFAULT_TIMEOUT_SECONDS));
                // expirationSeconds is not read: a profile is kept as long as the history
                Profilers.Outcome outcome = profilers.run(profiler, run.workContext(), timeout, evidence.of(run));
                event = new ProfilerFinished(stage, profiler.name,
                        outcome.page() == null ? null : Evidence.SERVED_AT + outcome.page().path(),
                        outcome.error() == null ? null : AbnormalEvents.truncate(outcome.error()));
            }
            metrics.profiler(stage, event.getError() == null);
            run.events().emit(event);
            LOG.info("profiler finished uid={} node={} stage={} profiler={} endpoint={} error={}", run.uid(), run.nodeName(), stage,
                    profiler.name, event.getEndpoint(), event.getError());
        }
    }
}
