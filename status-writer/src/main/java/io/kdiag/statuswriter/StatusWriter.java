package io.kdiag.statuswriter;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.kdiag.schemas.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running status writer: a Kafka Streams application of {@link StatusFoldTopology} with exactly-once
 * processing. {@link #close()} stops it; its store stays in the state directory for the next start.
 */
public final class StatusWriter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StatusWriter.class);
    private static final Duration START_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final KafkaStreams streams;
    private final KafkaStreamsMetrics metrics;
    private final CompletableFuture<KafkaStreams.State> stopped;

    private StatusWriter(KafkaStreams streams, KafkaStreamsMetrics metrics, CompletableFuture<KafkaStreams.State> stopped) {
        this.streams = streams;
        this.metrics = metrics;
        this.stopped = stopped;
    }

    /**
     * Starts the application and returns once it is running.
     *
     * @param config the status writer's configuration
     * @param kafka Kafka client settings (bootstrap servers, TLS, SASL), passed through to Kafka Streams
     * @param registry where Kafka Streams' metrics are published
     * @throws IllegalStateException when it stops or fails before running, or is not running within 2 minutes
     */
    public static StatusWriter start(StatusWriterConfig config, Map<String, Object> kafka, MeterRegistry registry) {
        Topics topics = config.topics();
        KafkaStreams streams = new KafkaStreams(StatusFoldTopology.build(topics), streamsProperties(config, kafka, topics));
        CompletableFuture<Void> running = new CompletableFuture<>();
        CompletableFuture<KafkaStreams.State> stopped = new CompletableFuture<>();
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING) {
                running.complete(null);
            } else if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
                running.completeExceptionally(new IllegalStateException("status writer stopped while starting: " + now));
                stopped.complete(now);
            }
        });
        streams.setUncaughtExceptionHandler(e -> {
            LOG.error("status writer stopping: stream thread failed", e);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        KafkaStreamsMetrics metrics = new KafkaStreamsMetrics(streams);
        metrics.bindTo(registry);
        StatusWriter writer = new StatusWriter(streams, metrics, stopped);
        try {
            streams.start();
            running.get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            writer.close();
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            writer.close();
            throw new IllegalStateException("status writer not running after " + START_TIMEOUT.toSeconds() + " s (state "
                    + streams.state() + "); is Kafka at " + kafka.get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG) + " reachable?", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            writer.close();
            throw new IllegalStateException("interrupted while starting the status writer", e);
        } catch (RuntimeException e) {
            writer.close();
            throw e;
        }
        LOG.info("status writer running applicationId={} events={} status={}", config.applicationId(),
                topics.diagnosisEvents().name(), topics.abnormalStatus().name());
        return writer;
    }

    static Properties streamsProperties(StatusWriterConfig config, Map<String, Object> kafka, Topics topics) {
        Properties props = new Properties();
        props.putAll(kafka);
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
        props.put(StreamsConfig.STATE_DIR_CONFIG, config.stateDir().toString());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) config.replicationFactor());
        props.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterDeserializationHandler.class);
        props.put(DeadLetterDeserializationHandler.DEAD_LETTER_TOPIC_CONFIG, topics.deadLetters().name());
        return props;
    }

    /** Completes with the final state when the application stops on its own or is closed. */
    CompletableFuture<KafkaStreams.State> stopped() {
        return stopped;
    }

    /** Stops processing, committing what was folded; waits up to 30 seconds. */
    @Override
    public void close() {
        metrics.close();
        if (!streams.close(CLOSE_TIMEOUT)) {
            LOG.warn("status writer did not stop within {} s", CLOSE_TIMEOUT.toSeconds());
        }
    }
}
