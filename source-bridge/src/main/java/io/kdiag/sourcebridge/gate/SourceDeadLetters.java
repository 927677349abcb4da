package io.kdiag.sourcebridge.gate;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

import io.kdiag.api.ApiSerialization;
import io.kdiag.schemas.DeadLetters;
import io.kdiag.schemas.Topics;
import io.kdiag.sourcebridge.request.Refusal;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the event and alert sources take in but cannot forward: an event or alert a rule matched that names no node,
 * an entry of a webhook body that is not an alert. Each is counted ({@code kdiag_bridge_unforwarded_total}), logged,
 * and written to the dead-letter topic as JSON with the reason, so nothing is dropped silently. The dead letter's
 * source headers name the source ({@code prometheus-alert}, {@code kubernetes-event}) with partition and offset -1: it
 * was not read from a topic. Alertmanager and the event informer send the same thing again and again: the same one
 * (same key) is counted every time but written once per repeat interval.
 */
public final class SourceDeadLetters implements AutoCloseable {
    /** How many keys are remembered for the repeat interval; beyond, the oldest are forgotten. */
    static final int MAX_REMEMBERED = 10_000;
    private static final Logger LOG = LoggerFactory.getLogger(SourceDeadLetters.class);

    private final String topic;
    private final Supplier<Producer<byte[], byte[]>> producerFactory;
    private final int maxRecordBytes;
    private final Duration repeatInterval;
    private final MeterRegistry registry;
    private final Clock clock;
    private final Map<String, Long> written = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > MAX_REMEMBERED;
        }
    };
    private Producer<byte[], byte[]> producer;

    /**
     * Dead letters written by the producer {@code producerFactory} makes at the first one.
     *
     * @param maxRecordBytes the largest record that producer sends ({@link DeadLetters#maxRecordBytes})
     */
    public SourceDeadLetters(Topics topics, Supplier<Producer<byte[], byte[]>> producerFactory, int maxRecordBytes,
            Duration repeatInterval, MeterRegistry registry, Clock clock) {
        this.topic = topics.deadLetters().name();
        this.producerFactory = producerFactory;
        this.maxRecordBytes = maxRecordBytes;
        this.repeatInterval = repeatInterval;
        this.registry = registry;
        this.clock = clock;
    }

    /** Dead letters written with a Kafka producer of these client settings, opened at the first one. */
    public static SourceDeadLetters of(Topics topics, Map<String, Object> kafka, Duration repeatInterval, MeterRegistry registry) {
        Map<String, Object> settings = new HashMap<>(kafka);
        settings.put(ProducerConfig.ACKS_CONFIG, "all");
        settings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        return new SourceDeadLetters(topics, () -> new KafkaProducer<>(settings, new ByteArraySerializer(), new ByteArraySerializer()),
                DeadLetters.maxRecordBytes(settings), repeatInterval, registry, Clock.systemUTC());
    }

    /**
     * Counts, logs and (once per {@code key} and repeat interval) dead-letters what {@code source} could not forward:
     * {@link Refusal.Kind#NO_NODE} for a match without a node, {@link Refusal.Kind#BAD_SHAPE} for an entry that is no
     * alert. The dead letter's reason is the refusal's CamelCase reason and message ({@code NodeNotFound: ...}).
     *
     * @param key what makes two reports the same one (an alert's fingerprint, an event's namespace/name)
     * @param original the event, alert or entry as received, written as JSON
     */
    public void report(String source, Refusal refusal, String key, Object original) {
        BridgeMetrics.unforwarded(registry, source, refusal.kind().tag());
        long now = clock.millis();
        synchronized (this) {
            Long last = written.get(source + "/" + key);
            if (last != null && now - last < repeatInterval.toMillis()) {
                return;
            }
            written.put(source + "/" + key, now);
            if (producer == null) {
                producer = producerFactory.get();
            }
        }
        LOG.info("dead-lettering source={} reason={} key={}: {}", source, refusal.reason(), key, refusal.getMessage());
        byte[] value = ApiSerialization.json(original).getBytes(StandardCharsets.UTF_8);
        producer.send(DeadLetters.of(topic, new DeadLetters.Source(source, -1, -1), null, value,
                refusal.reason() + ": " + refusal.getMessage(), maxRecordBytes), (metadata, error) -> {
                    if (error != null) {
                        LOG.warn("cannot write a dead letter source={} key={}: {}", source, key, error.toString());
                    }
                });
    }

    @Override
    public synchronized void close() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(10));
        }
    }
}
