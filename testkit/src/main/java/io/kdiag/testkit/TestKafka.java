package io.kdiag.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

import io.kdiag.embedded.EmbeddedKafka;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * A Kafka broker for {@code *IT} tests, always a real one, reached through {@link #bootstrapServers()}: the in-JVM
 * KRaft broker by default, or a Testcontainers Kafka when the run asks for it with the system property
 * {@value #KIND_PROPERTY}{@code =testcontainers} (the container tier, {@code -Pcontainers}, sets it). The choice is
 * explicit: a Docker socket on the machine changes nothing by itself, so the fast tiers never wait for an engine.
 *
 * <p>The container is the image named by {@value #IMAGE_PROPERTY} (default {@code localhost/kdiag-kafka:<the Kafka
 * version of the clients>}, the image the container tier builds from Maven Central's Kafka jars), standing in for
 * {@code apache/kafka}, and is never pulled: no registry is needed. Ryuk stays off (the environment variable
 * {@code TESTCONTAINERS_RYUK_DISABLED=true}); the container carries the label {@code io.kdiag.test-run} of the run
 * ({@code KDIAG_TEST_RUN}), by which {@code .ci/with-podman} removes whatever a killed run left behind.
 */
public final class TestKafka implements AutoCloseable {
    /** {@code embedded} (default) or {@code testcontainers}. */
    public static final String KIND_PROPERTY = "kdiag.test.kafka";
    /** The Kafka image of the Testcontainers broker. */
    public static final String IMAGE_PROPERTY = "kdiag.test.kafka-image";
    /** The label every container of a test run carries, valued by the environment variable {@code KDIAG_TEST_RUN}. */
    public static final String RUN_LABEL = "io.kdiag.test-run";

    private final EmbeddedKafka embedded;
    private final KafkaContainer container;

    private TestKafka(EmbeddedKafka embedded, KafkaContainer container) {
        this.embedded = embedded;
        this.container = container;
    }

    /** Starts the broker the run asked for ({@value #KIND_PROPERTY}). */
    public static TestKafka start() {
        String kind = System.getProperty(KIND_PROPERTY, "embedded");
        switch (kind) {
            case "embedded":
                return new TestKafka(EmbeddedKafka.startTemporary(), null);
            case "testcontainers":
                KafkaContainer container = container(image());
                container.start();
                return new TestKafka(null, container);
            default:
                throw new IllegalArgumentException(KIND_PROPERTY + " must be 'embedded' or 'testcontainers', not '" + kind + "'");
        }
    }

    /** The Kafka image of the Testcontainers broker. */
    public static String image() {
        return System.getProperty(IMAGE_PROPERTY, "localhost/kdiag-kafka:" + kafkaVersion());
    }

    /** The version of the Kafka clients on the class path (the project's Kafka version). */
    static String kafkaVersion() {
        try (InputStream in = KafkaContainer.class.getClassLoader().getResourceAsStream("kafka/kafka-version.properties")) {
            if (in == null) {
                throw new IllegalStateException("no kafka/kafka-version.properties: kafka-clients is not on the class path");
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("resource")
    static KafkaContainer container(String image) {
        KafkaContainer container = new KafkaContainer(DockerImageName.parse(image).asCompatibleSubstituteFor("apache/kafka"))
                // a local image only: a missing one fails at once instead of trying a registry
                .withImagePullPolicy(name -> false);
        String run = System.getenv("KDIAG_TEST_RUN");
        if (run != null && !run.isBlank()) {
            container.withLabel(RUN_LABEL, run);
        }
        return container;
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
