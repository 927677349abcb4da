package io.kdiag.sourcebridge.kubernetes;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.PodReference;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.sourcebridge.gate.SourceDeadLetters;
import io.kdiag.sourcebridge.gate.Submission;
import io.kdiag.sourcebridge.request.AbnormalNames;
import io.kdiag.sourcebridge.request.Refusal;
import io.kdiag.sourcebridge.rules.RuleBook;
import io.kdiag.sourcebridge.rules.RuleMatch;
import io.kdiag.sourcebridge.rules.SourceRule;

/**
 * The abnormal a Kubernetes Event starts: the first matching KubernetesEvent rule's, named
 * {@code kubernetes-event.<eventNs>.<eventName>}, on the event's node ({@code source.host}, else the involved pod's node,
 * else the involved Node; a match without any is dead-lettered). An occurrence is identified by the event's uid and count;
 * the repeat key is the event's namespace/name. Needs no cluster, so the benchmarks measure the bridge's per-event work
 * with it.
 */
public final class EventMatcher {
    private final RuleBook rules;
    private final String abnormalNamespace;
    private final BiFunction<String, String, String> podNode;
    private final SourceDeadLetters deadLetters;

    /**
     * A matcher over {@code rules}, starting abnormals in {@code abnormalNamespace}.
     *
     * @param podNode the node of a pod (namespace, name), or {@code null}
     * @param deadLetters where events that match but have no node go
     */
    public EventMatcher(RuleBook rules, String abnormalNamespace, BiFunction<String, String, String> podNode,
            SourceDeadLetters deadLetters) {
        this.rules = rules;
        this.abnormalNamespace = abnormalNamespace;
        this.podNode = podNode;
        this.deadLetters = deadLetters;
    }

    /** The submission for an event: the first matching rule's abnormal, or empty when no rule matches or no node is known. */
    public Optional<RuleMatch> match(Event event) {
        Optional<SourceRule> rule = rules.firstMatching(event);
        if (rule.isEmpty()) {
            return Optional.empty();
        }
        ObjectReference involved = event.getInvolvedObject();
        String node = event.getSource() != null ? blankToNull(event.getSource().getHost()) : null;
        boolean aboutPod = involved != null && "Pod".equals(involved.getKind()) && involved.getName() != null;
        if (node == null && aboutPod) {
            node = podNode.apply(involved.getNamespace(), involved.getName());
        }
        if (node == null && involved != null && "Node".equals(involved.getKind())) {
            node = blankToNull(involved.getName());
        }
        String eventNamespace = event.getMetadata().getNamespace();
        String eventName = event.getMetadata().getName();
        // a shallow copy without managedFields; the informer's object itself must not change
        Event copy = new EventBuilder(event).editMetadata().withManagedFields((List<ManagedFieldsEntry>) null).endMetadata().build();
        if (node == null) {
            deadLetters.report(EventSource.SOURCE, new Refusal(Refusal.Kind.NO_NODE, "event " + eventNamespace + "/" + eventName
                    + " (reason " + event.getReason() + ") matched the AbnormalSource " + rule.get().key()
                    + " but names no node: no source.host, and its involved object is "
                    + (involved == null ? "missing" : aboutPod ? "a pod whose node is not known" : "neither a pod nor a node")),
                    eventNamespace + "/" + eventName, copy);
            return Optional.empty();
        }
        AbnormalSpec spec = rule.get().abnormalSpec(node);
        spec.source = SourceRule.EVENT;
        spec.kubernetesEvent = copy;
        if (aboutPod) {
            PodReference pod = new PodReference();
            pod.namespace = involved.getNamespace();
            pod.name = involved.getName();
            spec.podReference = pod;
        }
        String identity = event.getMetadata().getUid() != null ? event.getMetadata().getUid() : eventNamespace + "/" + eventName;
        AbnormalRequest request = AbnormalRequest.newBuilder()
                .setUid(AbnormalNames.uid("event/" + identity + "/" + count(event)))
                .setNamespace(abnormalNamespace)
                .setName(AbnormalNames.sanitize("kubernetes-event." + eventNamespace + "." + eventName))
                .setNodeName(node)
                .setOrigin(Origin.KubernetesEvent)
                .setRequestedAt(Instant.now())
                .setSpec(ApiSerialization.json(spec))
                .setLabels(Map.of())
                .build();
        return Optional.of(new RuleMatch(rule.get(),
                new Submission(EventSource.SOURCE, request, "event/" + eventNamespace + "/" + eventName, true, true)));
    }

    private static int count(Event event) {
        if (event.getCount() != null) {
            return event.getCount();
        }
        return event.getSeries() != null && event.getSeries().getCount() != null ? event.getSeries().getCount() : 1;
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }
}
