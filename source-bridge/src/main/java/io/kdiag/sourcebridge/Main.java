package io.kdiag.sourcebridge;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletionException;

import io.kdiag.common.config.ConfigException;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.common.metrics.MetricsServer;
import io.kdiag.schemas.Topics;
import org.apache.kafka.clients.CommonClientConfigs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the source bridge as a process: {@code source-bridge [--config FILE]}. Configuration comes from
 * {@code KDIAG_*} variables over the optional properties file; the process exits 2 on invalid configuration and 1 if
 * forwarding fails.
 */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {
    }

    /** Starts the bridge and runs until the process is stopped. */
    public static void main(String[] args) {
        int status;
        try {
            status = run(args);
        } catch (ConfigException e) {
            LOG.error("{}", e.getMessage());
            status = 2;
        } catch (RuntimeException e) {
            LOG.error("the source bridge failed to start: {}", e.getMessage(), e);
            status = 1;
        }
        if (status != 0) {
            // the metrics server's threads would keep a failed process alive
            System.exit(status);
        }
    }

    private static int run(String[] args) {
        Path file = configFile(args);
        ConfigSource source = ConfigSource.fromEnvironment(file);
        SourceBridgeConfig config = SourceBridgeConfig.from(source);
        Map<String, Object> kafka = source.kafkaProperties();
        if (!kafka.containsKey(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG)) {
            throw new ConfigException("missing required configuration kdiag.kafka.bootstrap.servers "
                    + "(environment KDIAG_KAFKA_BOOTSTRAP_SERVERS): the Kafka brokers to connect to");
        }
        LOG.info("starting with Kafka settings {}", ConfigSource.redacted(kafka));
        if (config.createTopics()) {
            TopicAdmin.ensureTopics(kafka, new Topics(config.topicPrefix()), config.partitions(), (short) config.replicationFactor());
        }
        MetricsServer metrics;
        try {
            metrics = MetricsServer.start("0.0.0.0", config.metricsPort());
        } catch (IOException e) {
            throw new ConfigException("cannot serve metrics on kdiag.metrics-port=" + config.metricsPort() + ": " + e.getMessage());
        }
        SourceBridge bridge = SourceBridge.start(config, kafka, metrics.registry());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            bridge.close();
            metrics.close();
        }, "kdiag-shutdown"));
        LOG.info("source bridge running metricsPort={} alertPort={}", metrics.port(), bridge.httpPort());
        try {
            bridge.stopped().join();
            return 0;
        } catch (CompletionException e) {
            return 1; // the forwarder has logged why
        }
    }

    private static Path configFile(String[] args) {
        if (args.length == 0) {
            return null;
        }
        if (args.length == 2 && "--config".equals(args[0])) {
            return Path.of(args[1]);
        }
        throw new ConfigException("usage: source-bridge [--config FILE]");
    }
}
