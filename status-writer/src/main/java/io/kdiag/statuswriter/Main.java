package io.kdiag.statuswriter;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import io.kdiag.common.config.ConfigException;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.common.metrics.MetricsServer;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The status writer deployable: {@code status-writer [--config FILE]}. Settings come from {@code KDIAG_*}
 * environment variables over the optional properties file; see {@link StatusWriterConfig#keys()}.
 */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);
    private static final String USAGE = "usage: status-writer [--config FILE]";

    private Main() {
    }

    /** Runs until the process is stopped; exits non-zero on bad configuration or when processing fails. */
    public static void main(String[] args) throws Exception {
        ConfigSource source;
        StatusWriterConfig config;
        try {
            source = ConfigSource.fromEnvironment(configFile(args));
            config = StatusWriterConfig.from(source);
        } catch (ConfigException | IllegalArgumentException e) {
            LOG.error("status writer not started: {}", e.getMessage());
            System.exit(2);
            return;
        }
        Map<String, Object> kafka = source.kafkaProperties();
        LOG.info("status writer starting config={} kafka={}", config, ConfigSource.redacted(kafka));

        MetricsServer metricsServer = MetricsServer.start("0.0.0.0", config.metricsPort());
        if (config.createTopics()) {
            TopicAdmin.ensureTopics(kafka, config.topics(), config.partitions(), config.replicationFactor());
        }
        StatusWriter writer = StatusWriter.start(config, kafka, metricsServer.registry());
        AtomicBoolean shuttingDown = new AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            shuttingDown.set(true);
            LOG.info("status writer stopping");
            writer.close();
            metricsServer.close();
            LOG.info("status writer stopped");
        }, "kdiag-status-writer-shutdown"));

        KafkaStreams.State end = writer.stopped().join();
        if (!shuttingDown.get()) {
            LOG.error("status writer stopped on its own state={}", end);
            System.exit(1);
        }
    }

    static Path configFile(String[] args) {
        Path file = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                file = Path.of(args[++i]);
            } else if (args[i].startsWith("--config=")) {
                file = Path.of(args[i].substring("--config=".length()));
            } else {
                throw new IllegalArgumentException("unknown argument '" + args[i] + "'; " + USAGE);
            }
        }
        return file;
    }
}
