package io.kdiag.nodeagent;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import io.kdiag.common.config.ConfigException;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.common.metrics.MetricsServer;
import io.kdiag.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the node agent: {@code --config FILE} (optional properties file), overridden by {@code KDIAG_*} variables.
 * Prometheus metrics are served on {@code kdiag.metrics-port} (10357), the agent's own endpoints on {@code kdiag.http-port} (8090).
 */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {
    }

    /** Starts the agent and its metrics endpoint; a shutdown hook stops them in reverse order. */
    public static void main(String[] args) {
        NodeAgentConfig config;
        ConfigSource source;
        try {
            source = ConfigSource.fromEnvironment(configFile(args));
            config = NodeAgentConfig.from(source);
        } catch (ConfigException | IllegalArgumentException e) {
            LOG.error("invalid configuration: {}", e.getMessage());
            System.exit(2);
            return;
        }
        Map<String, Object> kafka = source.kafkaProperties();
        LOG.info("node agent configuration {} kafka={}", config, ConfigSource.redacted(kafka));
        MetricsServer metrics;
        try {
            metrics = MetricsServer.start("0.0.0.0", config.metricsPort());
        } catch (IOException e) {
            LOG.error("cannot serve metrics port={}", config.metricsPort(), e);
            System.exit(1);
            return;
        }
        NodeAgent agent;
        try {
            if (config.createTopics()) {
                TopicAdmin.ensureTopics(kafka, new Topics(config.topicPrefix()), config.partitions(), (short) config.replicationFactor());
            }
            agent = NodeAgent.start(config, kafka, metrics.registry());
        } catch (RuntimeException e) {
            LOG.error("node agent not started node={}", config.nodeName(), e);
            metrics.close();
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("node agent stopping node={}", config.nodeName());
            agent.close();
            metrics.close();
        }, "kdiag-shutdown"));
    }

    private static Path configFile(String[] args) {
        Path file = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                file = Path.of(args[++i]);
            } else if (args[i].startsWith("--config=")) {
                file = Path.of(args[i].substring("--config=".length()));
            } else {
                throw new IllegalArgumentException("unknown argument " + args[i] + "; usage: node-agent [--config FILE]");
            }
        }
        return file;
    }
}
