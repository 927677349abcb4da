package io.kdiag.sourcebridge.gate;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import io.kdiag.api.ApiSerialization;
import io.kdiag.schemas.DeadLetterHeaders;
import io.kdiag.schemas.DeadLetters;
import io.kdiag.schemas.Topics;
import io.kdiag.sourcebridge.request.Refusal;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

class SourceDeadLettersTest {
    private static final Refusal NO_NODE = new Refusal(Refusal.Kind.NO_NODE, "no node");
    private final MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-03-01T12:00:00Z"));
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final SourceDeadLetters deadLetters = new SourceDeadLetters(new Topics("kdiag."), () -> producer,
            DeadLetters.DEFAULT_MAX_RECORD_BYTES, Duration.ofHours(6), registry, new Clock() {
                @Override
                public Instant instant() {
                    return now.get();
                }

                @Override
                public ZoneOffset getZone() {
                    return ZoneOffset.UTC;
                }

                @Override
                public Clock withZone(java.time.ZoneId zone) {
                    return this;
                }
            });

    @Test
    void shouldWriteWhatCannotBeForwardedToTheDeadLetterTopicWithTheReason() {
        deadLetters.report("prometheus-alert", new Refusal(Refusal.Kind.NO_NODE, "alert KubePodNotReady names no node"), "af9673fc054d6822",
                Map.of("labels", Map.of("alertname", "KubePodNotReady")));

        ProducerRecord<byte[], byte[]> letter = producer.history().get(0);
        assertThat(letter.topic()).isEqualTo("kdiag.dead-letters");
        assertThat(letter.key()).isNull();
        assertThat(ApiSerialization.jsonObject(new String(letter.value(), StandardCharsets.UTF_8)))
                .isEqualTo(Map.of("labels", Map.of("alertname", "KubePodNotReady")));
        assertThat(header(letter, DeadLetterHeaders.REASON)).isEqualTo("NodeNotFound: alert KubePodNotReady names no node");
        assertThat(header(letter, DeadLetterHeaders.SOURCE_TOPIC)).isEqualTo("prometheus-alert");
        assertThat(header(letter, DeadLetterHeaders.SOURCE_OFFSET)).isEqualTo("-1");
        assertThat(registry.counter("kdiag.bridge.unforwarded", "source", "prometheus-alert", "reason", "no-node").count()).isEqualTo(1);
    }

    @Test
    void shouldWriteTheSameOneOncePerRepeatIntervalButCountItEveryTime() {
        for (int i = 0; i < 3; i++) {
            deadLetters.report("kubernetes-event", NO_NODE, "default/web-0.1", Map.of());
        }
        deadLetters.report("kubernetes-event", NO_NODE, "default/web-1.1", Map.of());
        now.set(now.get().plus(Duration.ofHours(6)));
        deadLetters.report("kubernetes-event", NO_NODE, "default/web-0.1", Map.of());

        assertThat(producer.history()).hasSize(3);
        assertThat(registry.counter("kdiag.bridge.unforwarded", "source", "kubernetes-event", "reason", "no-node").count()).isEqualTo(5);
    }

    private static String header(ProducerRecord<byte[], byte[]> record, String name) {
        return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }
}
