package io.kdiag.sourcebridge;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.kdiag.schemas.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The source bridge: the single gate into {@code kdiag.abnormals}. This version forwards the open ingest topic
 * {@code kdiag.abnormal-requests}: valid requests go to {@code abnormals} keyed by node name, everything else to
 * {@code dead-letters} with the reason, exactly once.
 */
public final class SourceBridge implements AutoCloseable {
    /** Consumer group of every bridge replica. */
    static final String GROUP_ID = "kdiag-source-bridge";
    private static final Duration START_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    private final IngestForwarder forwarder;
    private final Thread thread;

    private SourceBridge(IngestForwarder forwarder, Thread thread) {
        this.forwarder = forwarder;
        this.thread = thread;
    }

    /**
     * Starts forwarding and returns once the consumer has its first partition assignment.
     *
     * @param config the bridge's configuration
     * @param kafka Kafka client settings (bootstrap servers, TLS, SASL); group, transaction and serializer settings are
     *     the bridge's own
     * @param registry where the {@code kdiag.bridge.ingest.records} counters go
     * @throws IllegalStateException if the bridge could not start consuming within two minutes
     */
    public static SourceBridge start(SourceBridgeConfig config, Map<String, Object> kafka, MeterRegistry registry) {
        Topics topics = new Topics(config.topicPrefix());
        Map<String, Object> consumerSettings = new HashMap<>(kafka);
        consumerSettings.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP_ID);
        consumerSettings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumerSettings.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        // a request published before the bridge's first start is still a request
        consumerSettings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        Map<String, Object> producerSettings = new HashMap<>(kafka);
        producerSettings.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config.transactionalId());
        producerSettings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);

        KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(consumerSettings, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        KafkaProducer<byte[], byte[]> producer;
        try {
            producer = new KafkaProducer<>(producerSettings, new ByteArraySerializer(), new ByteArraySerializer());
        } catch (RuntimeException e) {
            consumer.close();
            throw e;
        }
        IngestForwarder forwarder = new IngestForwarder(topics, consumer, producer, registry);
        Thread thread = new Thread(forwarder, "kdiag-ingest-forwarder");
        thread.start();
        SourceBridge bridge = new SourceBridge(forwarder, thread);
        try {
            forwarder.consuming().get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return bridge;
        } catch (ExecutionException e) {
            bridge.close();
            throw new IllegalStateException("the source bridge could not start: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            bridge.close();
            throw new IllegalStateException("the source bridge got no partitions of " + topics.abnormalRequests().name()
                    + " within " + START_TIMEOUT.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            bridge.close();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the source bridge", e);
        }
    }

    /** Completes when forwarding has ended: normally after {@link #close()}, exceptionally if it failed. */
    CompletableFuture<Void> stopped() {
        return forwarder.stopped();
    }

    /** Stops forwarding after the batch in hand and closes the Kafka clients. */
    @Override
    public void close() {
        forwarder.stop();
        try {
            thread.join(STOP_TIMEOUT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
