package io.kdiag.sourcebridge.kubernetes;

import java.util.Optional;
import java.util.concurrent.Executor;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.kdiag.common.metrics.KubeDiagMetric;
import io.kdiag.common.metrics.KubeDiagMetrics;
import io.kdiag.sourcebridge.gate.BridgeMetrics;
import io.kdiag.sourcebridge.gate.Gate;
import io.kdiag.sourcebridge.gate.SourceDeadLetters;
import io.kdiag.sourcebridge.gate.Verdict;
import io.kdiag.sourcebridge.rules.RuleBook;
import io.kdiag.sourcebridge.rules.RuleMatch;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kubernetes Event source: every core/v1 Event (added, or updated with a new count) that a KubernetesEvent rule
 * matches is submitted as the {@link EventMatcher} builds it. An occurrence is identified by the event's uid and count,
 * so relists and restarts are duplicates; a new count of the same event within the repeat interval is suppressed.
 */
public final class EventSource implements AutoCloseable {
    /** The {@code source} tag of its metrics. */
    public static final String SOURCE = BridgeMetrics.SOURCE_KUBERNETES_EVENT;
    private static final Logger LOG = LoggerFactory.getLogger(EventSource.class);

    private final KubernetesClient client;
    private final Gate gate;
    private final RuleBook rules;
    private final EventMatcher matcher;
    private final Executor followUps;
    private final KubeDiagMetrics kubediag;
    private SharedIndexInformer<Event> informer;

    /**
     * A source submitting to {@code gate} the abnormals that {@code rules} start from the events of {@code client}'s
     * cluster, in {@code abnormalNamespace}; {@code followUps} runs what follows a verdict; matches without a node go to
     * {@code deadLetters}.
     */
    public EventSource(KubernetesClient client, Gate gate, RuleBook rules, String abnormalNamespace, Executor followUps,
            SourceDeadLetters deadLetters, MeterRegistry registry) {
        this.client = client;
        this.gate = gate;
        this.rules = rules;
        this.matcher = new EventMatcher(rules, abnormalNamespace, new PodNodes(client)::nodeOf, deadLetters);
        this.followUps = followUps;
        this.kubediag = KubeDiagMetrics.of(registry);
    }

    /** Starts watching the events of every namespace. */
    public EventSource start() {
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
        // KubeDiag's eventer counted every event it was given, and each as a generation
        kubediag.increment(KubeDiagMetric.EVENT_RECEIVED_COUNT);
        kubediag.increment(KubeDiagMetric.EVENTER_ABNORMAL_GENERATION_SUCCESS_COUNT);
        Optional<RuleMatch> match;
        try {
            match = matcher.match(event);
        } catch (KubernetesClientException e) {
            LOG.warn("cannot look up the node of event namespace={} name={}: {}", event.getMetadata().getNamespace(),
                    event.getMetadata().getName(), e.getMessage());
            kubediag.increment(KubeDiagMetric.SOURCE_MANAGER_SYNC_ERROR_COUNT);
            return;
        }
        if (match.isEmpty()) {
            kubediag.increment(KubeDiagMetric.SOURCE_MANAGER_SYNC_SUCCESS_COUNT);
            return;
        }
        RuleMatch m = match.get();
        gate.submit(m.submission()).whenCompleteAsync((verdict, error) -> {
            if (error != null) {
                LOG.warn("event not forwarded namespace={} name={}: {}", event.getMetadata().getNamespace(), event.getMetadata().getName(),
                        error.toString());
                kubediag.increment(KubeDiagMetric.EVENTER_ABNORMAL_GENERATION_ERROR_COUNT);
                kubediag.increment(KubeDiagMetric.SOURCE_MANAGER_SYNC_ERROR_COUNT);
                return;
            }
            kubediag.increment(KubeDiagMetric.SOURCE_MANAGER_SYNC_SUCCESS_COUNT);
            if (verdict.outcome() == Verdict.Outcome.FORWARDED) {
                kubediag.increment(KubeDiagMetric.EVENT_GENERATED_ABNORMAL_CREATION_COUNT);
                rules.recordLastAbnormal(m.rule(), m.submission().request());
            }
        }, followUps);
    }

    @Override
    public void close() {
        if (informer != null) {
            informer.close();
        }
    }
}
