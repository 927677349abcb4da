package io.kdiag.sourcebridge;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.BiFunction;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.PodReference;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kubernetes Event source: every core/v1 Event (added, or updated with a new count) is matched against the
 * KubernetesEvent rules; the first match becomes {@code kubernetes-event.<eventNs>.<eventName>} on the event's node
 * ({@code source.host}, else the involved pod's node, else the involved Node). An occurrence is identified by the
 * event's uid and count, so relists and restarts are duplicates; a new count of the same event within the repeat
 * interval is suppressed.
 */
final class EventSource implements AutoCloseable {
    static final String SOURCE = "kubernetes-event";
    /** Events that matched no rule, or matched but have no node. */
    static final String UNFORWARDED_METRIC = "kdiag.bridge.unforwarded";
    private static final Logger LOG = LoggerFactory.getLogger(EventSource.class);

    private final KubernetesClient client;
    private final Gate gate;
    private final RuleBook rules;
    private final String abnormalNamespace;
    private final Executor followUps;
    private final MeterRegistry registry;
    private SharedIndexInformer<Event> informer;

    EventSource(KubernetesClient client, Gate gate, RuleBook rules, String abnormalNamespace, Executor followUps,
            MeterRegistry registry) {
        this.client = client;
        this.gate = gate;
        this.rules = rules;
        this.abnormalNamespace = abnormalNamespace;
        this.followUps = followUps;
        this.registry = registry;
    }

    EventSource start() {
        informer = client.v1().events().inAnyNamespace().inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Event event) {
                consider(event);
            }

            @Override
            public void onUpdate(Event before, Event after) {
                consider(after);
            }

            @Override
            public void onDelete(Event event, boolean finalStateUnknown) {
                // an expired event ends nothing
            }
        });
        return this;
    }

    private void consider(Event event) {
        PodNodes pods = new PodNodes(client);
        Optional<RuleMatch> match;
        try {
            match = match(event, rules, abnormalNamespace, pods::nodeOf);
        } catch (KubernetesClientException e) {
            LOG.warn("cannot look up the node of event namespace={} name={}: {}", event.getMetadata().getNamespace(),
                    event.getMetadata().getName(), e.getMessage());
            return;
        }
        match.ifPresent(m -> gate.submit(m.submission()).thenAcceptAsync(verdict -> {
            if (verdict.outcome() == Verdict.Outcome.FORWARDED) {
                rules.recordLastAbnormal(m.rule(), m.submission().request().getName());
            }
        }, followUps));
    }

    /**
     * The submission for an event: the first matching rule's abnormal, or empty when no rule matches or no node is known.
     *
     * @param podNode the node of a pod (namespace, name), or {@code null}
     */
    Optional<RuleMatch> match(Event event, RuleBook book, String namespace, BiFunction<String, String, String> podNode) {
        Optional<SourceRule> rule = book.first(r -> r.isEventRule() && r.matches(event));
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
        if (node == null) {
            registry.counter(UNFORWARDED_METRIC, "source", SOURCE, "reason", "no-node").increment();
            LOG.info("event matched rule={} but has no node namespace={} name={}", rule.get().key(),
                    event.getMetadata().getNamespace(), event.getMetadata().getName());
            return Optional.empty();
        }
        String eventNamespace = event.getMetadata().getNamespace();
        String eventName = event.getMetadata().getName();
        AbnormalSpec spec = rule.get().abnormalSpec(node);
        spec.source = SourceRule.EVENT;
        // a shallow copy without managedFields; the informer's object itself must not change
        spec.kubernetesEvent = new EventBuilder(event).editMetadata().withManagedFields((List<ManagedFieldsEntry>) null)
                .endMetadata().build();
        if (aboutPod) {
            PodReference pod = new PodReference();
            pod.namespace = involved.getNamespace();
            pod.name = involved.getName();
            spec.podReference = pod;
        }
        String identity = event.getMetadata().getUid() != null ? event.getMetadata().getUid() : eventNamespace + "/" + eventName;
        AbnormalRequest request = AbnormalRequest.newBuilder()
                .setUid(AbnormalNames.uid("event/" + identity + "/" + count(event)))
                .setNamespace(namespace)
                .setName(AbnormalNames.sanitize("kubernetes-event." + eventNamespace + "." + eventName))
                .setNodeName(node)
                .setOrigin(Origin.KubernetesEvent)
                .setRequestedAt(Instant.now())
                .setSpec(ApiSerialization.json(spec))
                .setLabels(Map.of())
                .build();
        return Optional.of(new RuleMatch(rule.get(),
                new Submission(SOURCE, request, "event/" + eventNamespace + "/" + eventName, true, true)));
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

    @Override
    public void close() {
        if (informer != null) {
            informer.close();
        }
    }
}
