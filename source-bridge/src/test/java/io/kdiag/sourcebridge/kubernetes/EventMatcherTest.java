package io.kdiag.sourcebridge.kubernetes;

import static io.kdiag.sourcebridge.Samples.BACK_OFF;
import static io.kdiag.sourcebridge.Samples.UNHEALTHY;
import static io.kdiag.sourcebridge.Samples.eventRule;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.DeadLetterHeaders;
import io.kdiag.schemas.DeadLetters;
import io.kdiag.schemas.Topics;
import io.kdiag.sourcebridge.gate.SourceDeadLetters;
import io.kdiag.sourcebridge.rules.RuleBook;
import io.kdiag.sourcebridge.rules.RuleMatch;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

class EventMatcherTest {
    private final MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    private final SourceDeadLetters deadLetters = new SourceDeadLetters(new Topics("kdiag."), () -> producer,
            DeadLetters.DEFAULT_MAX_RECORD_BYTES, Duration.ofHours(6), new SimpleMeterRegistry(), Clock.systemUTC());

    @Test
    void shouldBuildTheOriginalsEventAbnormalOnTheEventsNode() throws Exception {
        RuleBook book = book("unhealthy-source", "{\"reason\": \"Unhealthy\"}");
        EventMatcher matcher = new EventMatcher(book, "kube-diagnoser", (ns, name) -> null, deadLetters);

        RuleMatch match = matcher.match(UNHEALTHY).orElseThrow();

        AbnormalRequest request = match.submission().request();
        assertThat(request.getName()).isEqualTo("kubernetes-event.default.web-0.17a2b");
        assertThat(request.getNamespace()).isEqualTo("kube-diagnoser");
        assertThat(request.getNodeName()).isEqualTo("node-1");
        assertThat(request.getOrigin()).isEqualTo(Origin.KubernetesEvent);
        AbnormalSpec spec = ApiSerialization.spec(request.getSpec());
        assertThat(spec.source).isEqualTo("KubernetesEvent");
        assertThat(spec.kubernetesEvent.getReason()).isEqualTo("Unhealthy");
        assertThat(spec.podReference.name).isEqualTo("web-0");
        assertThat(spec.assignedDiagnosers).extracting(n -> n.name).containsExactly("pod-disk-usage-diagnoser");
        assertThat(spec.context).containsEntry("team", "sre");
        assertThat(match.submission().repeatKey()).isEqualTo("event/default/web-0.17a2b");
    }

    @Test
    void shouldTakeTheNodeFromTheInvolvedPodWhenTheEventHasNoHost() throws Exception {
        RuleBook book = book("backoff", "{\"reason\": \"BackOff\"}");
        Event noHost = new EventBuilder(BACK_OFF).editSource().withHost(null).endSource().build();
        EventMatcher podOnNode7 = new EventMatcher(book, "kube-diagnoser", (ns, name) -> "web-1".equals(name) ? "node-7" : null,
                deadLetters);
        EventMatcher podUnknown = new EventMatcher(book, "kube-diagnoser", (ns, name) -> null, deadLetters);

        assertThat(podOnNode7.match(noHost)).get().extracting(m -> m.submission().request().getNodeName()).isEqualTo("node-7");
        assertThat(podUnknown.match(noHost)).isEmpty();
        // not dropped: the event goes to the dead letters, with why
        assertThat(producer.history()).singleElement().satisfies(letter -> {
            assertThat(new String(letter.headers().lastHeader(DeadLetterHeaders.REASON).value(), StandardCharsets.UTF_8))
                    .startsWith("NodeNotFound: event default/" + noHost.getMetadata().getName() + " (reason BackOff) matched the AbnormalSource "
                            + "kube-diagnoser/backoff but names no node");
            assertThat(ApiSerialization.jsonObject(new String(letter.value(), StandardCharsets.UTF_8))).containsEntry("reason", "BackOff");
        });
    }

    /** A book of one KubernetesEvent rule {@code kube-diagnoser/<name>} with the given {@code regexp} object. */
    private static RuleBook book(String name, String regexp) {
        RuleBook book = new RuleBook(null, java.time.ZoneOffset.UTC);
        book.update(new GenericKubernetesResourceBuilder().withNewMetadata().withNamespace("kube-diagnoser").withName(name)
                .endMetadata().addToAdditionalProperties("spec", eventRule(regexp)).build());
        return book;
    }
}
