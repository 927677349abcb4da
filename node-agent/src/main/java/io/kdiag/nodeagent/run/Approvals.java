package io.kdiag.nodeagent.run;

import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import io.kdiag.api.Annotations;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.CommandExecutorSpec;
import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.model.ApprovalDecisions;
import io.kdiag.nodeagent.policy.Policy;
import io.kdiag.nodeagent.processors.Processors;
import io.kdiag.nodeagent.processors.Registrations;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.ApprovalDecided;
import io.kdiag.schemas.avro.ApprovalRequested;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.Stage;

/**
 * The approval gate of the recovery stage: whether a person must approve before the stage's work (its commands,
 * profilers and recoverers) runs, what they are asked, and how a decision or its absence ends the wait. Approval is
 * required by any of: the abnormal's label {@link Annotations#REQUIRE_APPROVAL}{@code : "true"}, the same annotation on
 * the registration of one of its recoverers, or a policy grant with {@code requireApproval: true} that allows one of
 * them. One approval covers the whole stage.
 */
public final class Approvals implements Gate {
    /** The gate's name, kept with every abnormal parked for approval. */
    public static final String GATE = "Approval";
    /** The reason a recovery stage ends {@code Failed} with when an approver denied it. */
    public static final String DENIED_REASON = "ApprovalDenied";
    /** The reason a recovery stage ends {@code Failed} with when nobody decided in time. */
    public static final String EXPIRED_REASON = "ApprovalExpired";
    /** The name of the subject of an approval that no recoverer stands for (a stage of commands or profilers only). */
    static final String STAGE_SUBJECT = "recovery-stage";
    /** Largest JSON of the abnormal's spec context repeated in a plan; a larger one is only referred to. */
    private static final int MAX_PLAN_CONTEXT_CHARS = 8 * 1024;

    private final String nodeName;
    private final Registrations registrations;
    private final Supplier<Policy> policy;
    private final Duration timeout;
    private final Clock clock;

    /** {@code timeout}: how long an abnormal waits for a decision before it ends denied ({@code kdiag.approval-timeout}). */
    public Approvals(String nodeName, Registrations registrations, Supplier<Policy> policy, Duration timeout, Clock clock) {
        this.nodeName = nodeName;
        this.registrations = registrations;
        this.policy = policy;
        this.timeout = timeout;
        this.clock = clock;
    }

    @Override
    public String name() {
        return GATE;
    }

    /**
     * What asks for approval before this recovery stage runs, and for which recoverer; {@code null} when nothing does.
     *
     * @param assigned the stage's recoverers, in order
     */
    ApprovalRequested requestFor(AbnormalRun run, List<io.kdiag.api.v1.NamespacedName> assigned) {
        AbnormalRequest request = run.request();
        NamespacedName subject = null;
        String requiredBy = null;
        for (io.kdiag.api.v1.NamespacedName reference : assigned) {
            NamespacedName processor = Processors.of(reference);
            String namespace = processor.getNamespace();
            String name = processor.getName();
            if (registrations.find(Stage.Recovery, namespace, name).map(Registrations.Registered::requireApproval).orElse(false)) {
                requiredBy = "the annotation " + Annotations.REQUIRE_APPROVAL + " of Recoverer " + namespace + "/" + name;
            } else {
                requiredBy = policy.get().approvalRequiredBy(request.getNamespace(), request.getOrigin(), namespace, name);
            }
            if (requiredBy != null) {
                subject = processor;
                break;
            }
        }
        if (requiredBy == null && "true".equalsIgnoreCase(String.valueOf(request.getLabels().get(Annotations.REQUIRE_APPROVAL)).strip())) {
            requiredBy = "the label " + Annotations.REQUIRE_APPROVAL + " of the abnormal";
            subject = assigned.isEmpty() ? new NamespacedName("", STAGE_SUBJECT) : Processors.of(assigned.get(0));
        }
        if (requiredBy == null) {
            return null;
        }
        return new ApprovalRequested(subject, plan(run, assigned), requiredBy, clock.instant().plus(timeout));
    }

    /**
     * The plan an approver reads: the node, the recoverers in order, the commands and profilers of the stage, and the
     * inputs they get (the pod, the spec's context, the keys of the context so far).
     */
    private String plan(AbnormalRun run, List<io.kdiag.api.v1.NamespacedName> assigned) {
        Map<String, Object> plan = new LinkedHashMap<>();
        plan.put("node", nodeName);
        plan.put("recoverers", assigned.stream().map(r -> r.namespace + "/" + r.name).toList());
        plan.put("commands", AbnormalRun.inStage(run.spec().commandExecutors, c -> c.type, Stage.Recovery).stream()
                .map((CommandExecutorSpec c) -> c.command).toList());
        plan.put("profilers", AbnormalRun.inStage(run.spec().profilers, p -> p.type, Stage.Recovery).stream()
                .map((ProfilerSpec p) -> p.name).toList());
        Map<String, Object> inputs = new LinkedHashMap<>();
        if (run.spec().podReference != null) {
            inputs.put("podReference", run.spec().podReference);
        }
        if (run.spec().context != null) {
            String context = ApiSerialization.json(run.spec().context);
            inputs.put("context", context.length() <= MAX_PLAN_CONTEXT_CHARS ? run.spec().context
                    : "(" + context.length() + " characters: see the abnormal's spec.context)");
        }
        inputs.put("statusContextKeys", run.contextKeys());
        plan.put("inputs", inputs);
        return ApiSerialization.json(plan);
    }

    /** The answer to an approver's verified decision. */
    public Answer decided(Parking.Parked parked, boolean approved, String decidedBy, String reason) {
        ApprovalDecided decided = new ApprovalDecided(Processors.parse(parked.subject()), approved, decidedBy, reason == null ? null : AbnormalEvents.truncate(reason));
        if (approved) {
            return Answer.proceed(decided);
        }
        return Answer.refuse(decided, DENIED_REASON, "recovery denied by " + decidedBy + (reason == null ? "" : " (" + reason + ")"));
    }

    @Override
    public Answer expired(Parking.Parked parked) {
        return Answer.refuse(new ApprovalDecided(Processors.parse(parked.subject()), false, "node-agent " + nodeName, ApprovalDecisions.EXPIRED), EXPIRED_REASON,
                "nobody approved the recovery before " + parked.deadline() + "; it does not run");
    }

    /** The recoverer as the wait keeps it ({@code namespace/name}). */
}
