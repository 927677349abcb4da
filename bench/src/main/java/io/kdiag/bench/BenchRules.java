package io.kdiag.bench;

import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kdiag.schemas.DeadLetters;
import io.kdiag.schemas.Topics;
import io.kdiag.sourcebridge.gate.SourceDeadLetters;
import io.kdiag.sourcebridge.kubernetes.EventMatcher;
import io.kdiag.sourcebridge.rules.RuleBook;
import io.kdiag.sourcebridge.rules.SourceRule;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The bridge's own rule matching for the benchmarks: a {@link RuleBook} of compiled AbnormalSource rules and the
 * {@link EventMatcher} that turns a Kubernetes Event into a request, without a cluster.
 */
final class BenchRules {
    private final RuleBook book = new RuleBook(null, ZoneOffset.UTC);
    /** Every bench event names its node, so nothing is dead-lettered: a producer keeping records in memory will do. */
    private final EventMatcher matcher = new EventMatcher(book, "kube-diagnoser", (namespace, name) -> null,
            new SourceDeadLetters(new Topics("bench."), () -> new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()),
                    DeadLetters.DEFAULT_MAX_RECORD_BYTES, Duration.ofHours(6), new SimpleMeterRegistry(), Clock.systemUTC()));

    /** {@code count} KubernetesEvent rules {@code rule-000}..., rule i matching reason {@code BenchReason<i>} from the kubelet. */
    BenchRules(int count) {
        for (int i = 0; i < count; i++) {
            add(String.format("rule-%03d", i), reason(i), "probe failed");
        }
    }

    /** Adds a KubernetesEvent rule for Warning events of the kubelet with this reason and message pattern. */
    BenchRules add(String name, String reason, String message) {
        int before = book.size();
        book.update(rule(name, reason, message));
        if (book.size() != before + 1) {
            throw new IllegalStateException("the rule " + name + " did not compile");
        }
        return this;
    }

    /** The AbnormalSource of a KubernetesEvent rule for Warning events of the kubelet with this reason and message pattern. */
    static GenericKubernetesResource rule(String name, String reason, String message) {
        GenericKubernetesResource resource = new GenericKubernetesResource();
        resource.setApiVersion("diagnosis.netease.com/v1");
        resource.setKind("AbnormalSource");
        resource.setMetadata(new ObjectMetaBuilder().withNamespace("kube-diagnoser").withName(name).build());
        resource.setAdditionalProperty("spec", Map.of(
                "sourceTemplate", Map.of("type", "KubernetesEvent", "kubernetesEventTemplate", Map.of("regexp", Map.of(
                        "reason", reason, "type", "Warning", "message", message, "source", Map.of("component", "kubelet")))),
                "assignedInformationCollectors", List.of(Map.of("namespace", "kube-diagnoser", "name", "process-collector"))));
        return resource;
    }

    /** The reason rule {@code i} matches. */
    static String reason(int i) {
        return String.format("BenchReason%03d", i);
    }

    /** A Warning event from the kubelet on {@code node} about a pod, with reason {@link #reason}(i). */
    static Event event(int i, String node) {
        return event(i, node, reason(i), "Readiness probe failed: HTTP probe failed with statuscode: 503");
    }

    /** A Warning event from the kubelet on {@code node} about pod {@code i}, with this reason and message. */
    static Event event(int i, String node, String reason, String message) {
        return new EventBuilder()
                .withNewMetadata().withNamespace("default").withName("pod-" + i + ".17a2b3c4d5e6f708").withUid("uid-" + i).endMetadata()
                .withReason(reason).withType("Warning").withMessage(message)
                .withNewSource().withComponent("kubelet").withHost(node).endSource()
                .withNewInvolvedObject().withKind("Pod").withNamespace("default").withName("pod-" + i).withUid("pod-uid-" + i).endInvolvedObject()
                .withCount(1)
                .build();
    }

    /** The first rule matching the event, as the bridge picks it; null when none does. */
    String firstMatch(Event event) {
        return book.firstMatching(event).map(SourceRule::key).orElse(null);
    }

    /** The bridge's whole per-event work before the gate: match, then build the request; null when nothing is forwarded. */
    String request(Event event) {
        return matcher.match(event).map(m -> m.submission().request().getName()).orElse(null);
    }
}
