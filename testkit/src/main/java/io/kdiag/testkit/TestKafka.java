package io.kdiag.testkit;

import io.kdiag.embedded.EmbeddedKafka;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;

/**
 * A Kafka broker for {@code *IT} tests: a Testcontainers Kafka where a Docker engine answers, otherwise the in-JVM
 * KRaft broker. Either way a real broker, reached through {@link #bootstrapServers()}.
 */
public final class TestKafka implements AutoCloseable {
    private static final String IMAGE = "apache/kafka:4.0.0";

    private final EmbeddedKafka embedded;
    private final KafkaContainer container;

    private TestKafka(EmbeddedKafka embedded, KafkaContainer container) {
        this.embedded = embedded;
        this.container = container;
    }

    /** Starts a broker of the best kind this machine offers. */
    public static TestKafka start() {
        if (dockerAvailable()) {
            KafkaContainer container = new KafkaContainer(IMAGE);
            container.start();
            return new TestKafka(null, container);
        }
        return new TestKafka(EmbeddedKafka.startTemporary(), null);
    }

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** {@code host:port} for clients. */
    public String bootstrapServers() {
        return embedded != null ? embedded.bootstrapServers() : container.getBootstrapServers();
    }

    /** Whether this is the in-JVM broker (which can be stopped and started on its data). */
    public boolean isEmbedded() {
        return embedded != null;
    }

    @Override
    public void close() {
        if (embedded != null) {
            embedded.close();
        } else {
            container.stop();
        }
    }
}
