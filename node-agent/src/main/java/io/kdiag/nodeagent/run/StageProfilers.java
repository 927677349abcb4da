package io.kdiag.nodeagent.run;

import java.time.Duration;
import java.util.function.Supplier;

import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.nodeagent.policy.Policy;
import io.kdiag.nodeagent.processors.Artifacts;
import io.kdiag.nodeagent.processors.Profilers;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.ProfilerFinished;
import io.kdiag.schemas.avro.Stage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the {@code spec.profilers} of a stage, each once the policy allows it, and emits a {@code ProfilerFinished}
 * for each: the URL its profile is served at, or why there is none. A profiler never changes the phase.
 */
public final class StageProfilers {
    private static final Logger LOG = LoggerFactory.getLogger(StageProfilers.class);

    private final Supplier<Policy> policy;
    private final Profilers profilers;
    private final Artifacts artifacts;
    private final AgentMetrics metrics;

    /** {@code artifacts}: where the profiles are served from. */
    public StageProfilers(Supplier<Policy> policy, Profilers profilers, Artifacts artifacts, AgentMetrics metrics) {
        this.policy = policy;
        this.profilers = profilers;
        this.artifacts = artifacts;
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
                Duration expiration = Duration.ofSeconds(profiler.expirationSeconds == null || profiler.expirationSeconds < 1
                        ? Profilers.DEFAULT_EXPIRATION_SECONDS : profiler.expirationSeconds);
                Profilers.Outcome outcome = profilers.run(profiler, run.workContext(), timeout, expiration);
                event = new ProfilerFinished(stage, profiler.name,
                        outcome.artifact() == null ? null : artifacts.url(outcome.artifact()),
                        outcome.error() == null ? null : AbnormalEvents.truncate(outcome.error()));
            }
            metrics.profiler(stage, event.getError() == null);
            run.events().emit(event);
            LOG.info("profiler finished uid={} node={} stage={} profiler={} endpoint={} error={}", run.uid(), run.nodeName(), stage,
                    profiler.name, event.getEndpoint(), event.getError());
        }
    }
}
