package io.kdiag.sourcebridge.log;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletionException;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kdiag.common.config.ConfigException;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.common.metrics.MetricsServer;
import io.kdiag.schemas.Topics;
import io.kdiag.sourcebridge.ClusterAccess;
import org.apache.kafka.clients.CommonClientConfigs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the log source in the agent pod: {@code log-source [--config FILE]}. Configuration comes from {@code KDIAG_*}
 * variables over the optional properties file; the process exits 2 on invalid configuration and 1 if following fails.
 */
public final class LogSourceMain {
    private static final Logger LOG = LoggerFactory.getLogger(LogSourceMain.class);

    private LogSourceMain() {
    }

    /** Starts the log source and runs until the process is stopped. */
    public static void main(String[] args) {
        int status;
        try {
            status = run(args);
        } catch (ConfigException e) {
            LOG.error("{}", e.getMessage());
            status = 2;
        } catch (RuntimeException e) {
            LOG.error("the log source failed to start: {}", e.getMessage(), e);
            status = 1;
        }
        // the metrics server's threads would keep the process alive
        System.exit(status);
    }

    private static int run(String[] args) {
        Path file = null;
        if (args.length == 2 && "--config".equals(args[0])) {
            file = Path.of(args[1]);
        } else if (args.length != 0) {
            throw new ConfigException("usage: log-source [--config FILE]");
        }
        ConfigSource source = ConfigSource.fromEnvironment(file);
        LogSourceConfig config = LogSourceConfig.from(source);
        Map<String, Object> kafka = source.kafkaProperties();
        if (!kafka.containsKey(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG)) {
            throw new ConfigException("missing required configuration kdiag.kafka.bootstrap.servers "
                    + "(environment KDIAG_KAFKA_BOOTSTRAP_SERVERS): the Kafka brokers to connect to");
        }
        if (config.createTopics()) {
            TopicAdmin.ensureTopics(kafka, new Topics(config.topicPrefix()), config.partitions(), (short) config.replicationFactor());
        }
        MetricsServer metrics;
        try {
            metrics = MetricsServer.start("0.0.0.0", config.metricsPort());
        } catch (IOException e) {
            throw new ConfigException("cannot serve metrics on kdiag.log.metrics-port=" + config.metricsPort() + ": " + e.getMessage());
        }
        KubernetesClient client = ClusterAccess.connect(config.kubernetes());
        LogSource logSource = LogSource.start(config, kafka, metrics.registry(), client);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            logSource.close();
            if (client != null) {
                client.close();
            }
            metrics.close();
        }, "kdiag-shutdown"));
        LOG.info("log source running node={} metricsPort={}", config.nodeName(), metrics.port());
        try {
            logSource.failed().join();
            return 0;
        } catch (CompletionException e) {
            return 1; // the follower or the gate has logged why
        }
    }
}
