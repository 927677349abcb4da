package io.kdiag.nodeagent.run;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.model.ShadowVerdict;
import io.kdiag.model.StageDefinition;
import io.kdiag.nodeagent.policy.Policy;
import io.kdiag.nodeagent.processors.Processors;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.ShadowFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.spi.OutputJson;
import io.kdiag.stageworkers.spi.RecoveryPlan;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the policy's shadow diagnosers and recoverers beside the real chain: after a stage's decision (so they cannot
 * change it), on the input that stage's processors got, each once, one after the other. A shadow diagnoser runs as a
 * diagnoser does, but its output reaches neither the context nor the status: it is only recorded in a
 * {@link ShadowFinished}. A shadow recoverer never acts: it is asked what it would do ({@link Processors#plan}). Each
 * costs at most its timeout; a failure is recorded as the shadow's, never the abnormal's.
 *
 * <p>Shadows run beside a stage that ended by its own decision (succeeded, failed or skipped), not beside one the kill
 * switch refused, nor one never reached; and a processor the stage assigns runs there for real, not as its shadow.
 */
final class ShadowRuns {
    private static final Logger LOG = LoggerFactory.getLogger(ShadowRuns.class);

    private final String nodeName;
    private final Processors processors;
    private final OutputLimits limits;
    private final AgentMetrics metrics;

    ShadowRuns(String nodeName, Processors processors, OutputLimits limits, AgentMetrics metrics) {
        this.nodeName = nodeName;
        this.processors = processors;
        this.limits = limits;
        this.metrics = metrics;
    }

    /**
     * The shadows of one stage of one abnormal, with the input the stage's processors get: the context as the stage
     * starts and the Abnormal a registered processor would be sent.
     */
    record Beside(Stage stage, List<Policy.Shadow> shadows, WorkContext input, Abnormal snapshot) {
        static final Beside NONE = new Beside(Stage.Unknown, List.of(), null, null);
    }

    /** Takes, before {@code stage} runs, the shadows that will run beside it and their input. */
    Beside beside(AbnormalRun run, Stage stage) {
        List<Policy.Shadow> declared = stage == Stage.InformationCollection ? List.of() : processors.shadows(stage);
        if (declared.isEmpty()) {
            return Beside.NONE;
        }
        List<String> assigned = Arrays.stream(StageDefinition.values())
                .flatMap(d -> d.assigned(run.spec()).stream()).map(r -> Processors.name(Processors.of(r))).toList();
        List<String> assignedHere = StageDefinition.of(stage).assigned(run.spec()).stream().map(r -> Processors.name(Processors.of(r))).toList();
        List<Policy.Shadow> shadows = declared.stream()
                .filter(s -> s.runsBeside(assigned) && !assignedHere.contains(s.namespace() + "/" + s.name()))
                .toList();
        return shadows.isEmpty() ? Beside.NONE : new Beside(stage, shadows, run.workContext(), run.snapshot());
    }

    /** Runs the shadows once their stage ended by its own decision; records each verdict. */
    void run(AbnormalRun run, Beside beside) throws InterruptedException {
        if (beside.shadows().isEmpty() || !run.finished(beside.stage())
                || RecoverySwitch.PAUSED_REASON.equals(run.endReason(beside.stage()))) {
            return;
        }
        for (Policy.Shadow shadow : beside.shadows()) {
            NamespacedName processor = new NamespacedName(shadow.namespace(), shadow.name());
            long start = System.nanoTime();
            ShadowFinished.Builder finished = ShadowFinished.newBuilder().setStage(beside.stage()).setProcessor(processor);
            try {
                if (beside.stage() == Stage.Recovery) {
                    planned(run, finished, processors.plan(processor, beside.input(), run.request().getOrigin(), beside::snapshot));
                } else {
                    diagnosed(run, finished, processors.run(beside.stage(), processor, beside.input(), run.request().getOrigin(),
                            beside::snapshot));
                }
            } catch (RuntimeException e) {
                // a defect of the agent's own on this shadow's output: the shadow's failure, never the abnormal's
                LOG.warn("shadow run failed uid={} node={} processor={}", run.uid(), nodeName, Processors.name(processor), e);
                finished.setVerdict(false).setContextUpdates(null).setPlan(null).setReason("Error")
                        .setMessage(AbnormalEvents.truncate("the agent could not record this shadow run: " + e));
            }
            ShadowFinished event = finished.setDurationMillis(Duration.ofNanos(System.nanoTime() - start).toMillis()).build();
            run.events().emit(event);
            ShadowVerdict verdict = ShadowVerdict.of(event);
            metrics.shadow(beside.stage(), processor, verdict);
            LOG.info("shadow finished uid={} node={} stage={} processor={} verdict={} reason={}",
                    run.uid(), nodeName, beside.stage(), Processors.name(processor), verdict.word(), event.getReason());
        }
    }

    private void diagnosed(AbnormalRun run, ShadowFinished.Builder finished, WorkResult result) {
        finished.setVerdict(result.succeeded()).setReason(result.reason())
                .setMessage(result.message() == null ? null : AbnormalEvents.truncate(result.message()));
        if (result.succeeded()) {
            finished.setContextUpdates(recordable(run, result.contextUpdates(), sizeWith(run, finished.setContextUpdates(""))));
            if (finished.getContextUpdates() == null) {
                finished.setMessage("its output is too large for an event and is not recorded");
            }
        }
    }

    private void planned(AbnormalRun run, ShadowFinished.Builder finished, RecoveryPlan plan) {
        finished.setVerdict(plan.wouldAct()).setReason(plan.reason())
                .setMessage(plan.message() == null ? null : AbnormalEvents.truncate(plan.message()));
        if (plan.plan() != null) {
            finished.setPlan(recordable(run, plan.plan(), sizeWith(run, finished.setPlan(""))));
        }
    }

    /** The encoded size of the event with the text of the output in the field {@code finished} holds empty. */
    private static ToIntFunction<OutputJson> sizeWith(AbnormalRun run, ShadowFinished.Builder finished) {
        return run.events().encodedSizeWith(finished.setDurationMillis(0).build());
    }

    /**
     * {@code output} as JSON for the event, within the context and event limits; when too large, each value is replaced
     * by its size ({@code {"key": {"omittedBytes": N}}}), so the keys are still compared; {@code null} when even that is.
     * Nothing of a shadow goes to the evidence topic: it would spend the budget the real chain's outputs need.
     */
    private String recordable(AbnormalRun run, Map<String, Object> output, ToIntFunction<OutputJson> eventBytes) {
        OutputJson json = OutputJson.of(output);
        if (limits.fits(json, eventBytes)) {
            return json.text();
        }
        Map<String, Object> sizes = new LinkedHashMap<>();
        output.forEach((key, value) -> sizes.put(key, Map.of("omittedBytes", ApiSerialization.json(value).getBytes(StandardCharsets.UTF_8).length)));
        OutputJson summary = OutputJson.of(sizes);
        LOG.info("shadow output too large for its event, values left out uid={} node={} bytes={}", run.uid(), nodeName, json.utf8Bytes());
        return limits.fits(summary, eventBytes) ? summary.text() : null;
    }
}
