package io.kdiag.common;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;

import io.kdiag.common.config.CommonKeys;
import io.kdiag.common.config.ConfigException;
import io.kdiag.common.config.ConfigKey;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.health.Health;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.common.metrics.MetricsServer;
import io.kdiag.schemas.AvroTrust;
import io.kdiag.schemas.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.CommonClientConfigs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a deployable as a process the same way for every component: {@code <name> [--config FILE]}. It reads the
 * configuration, requires Kafka bootstrap servers, creates missing topics when {@code kdiag.create-topics} is on,
 * serves {@code /metrics}, starts the component, and on shutdown stops the component and then the metrics server.
 * Exit codes: 2 for invalid configuration, 1 when the component cannot start or stops on its own.
 */
public final class Launcher {
    private static final Logger LOG = LoggerFactory.getLogger(Launcher.class);

    /** A started component. */
    public interface Running extends AutoCloseable {
        /** Completes when the component ends on its own (exceptionally when it failed); never, while it runs. */
        CompletableFuture<?> stopped();

        /** Stops the component. */
        @Override
        void close();

        /** A component that ends only when closed. */
        static Running of(AutoCloseable component) {
            return of(component, new CompletableFuture<>());
        }

        /**
         * Its health, when the metrics port is to answer the probes ({@code /healthz}, {@code /readyz}) because the
         * component serves no HTTP port of its own; {@code null} otherwise.
         */
        default Health health() {
            return null;
        }

        /** A component that may also end on its own, completing {@code stopped}. */
        static Running of(AutoCloseable component, CompletableFuture<?> stopped) {
            return of(component, stopped, null);
        }

        /** As {@link #of(AutoCloseable, CompletableFuture)}, with the probes on the metrics port answering {@code health}. */
        static Running of(AutoCloseable component, CompletableFuture<?> stopped, Health health) {
            return new Running() {
                @Override
                public CompletableFuture<?> stopped() {
                    return stopped;
                }

                @Override
                public Health health() {
                    return health;
                }

                @Override
                public void close() {
                    try {
                        component.close();
                    } catch (Exception e) {
                        LOG.warn("stopping failed component={}", component.getClass().getSimpleName(), e);
                    }
                }
            };
        }
    }

    /** Starts a component from its configuration; a {@link ConfigException} means invalid configuration. */
    @FunctionalInterface
    public interface Starter {
        /** Starts the component. */
        Running start(ConfigSource source, Map<String, Object> kafka, MeterRegistry registry);
    }

    private Launcher() {
    }

    /**
     * Runs a component until the process is stopped, then exits with its code.
     *
     * @param name the component's name, for usage and logs
     * @param args the command line: nothing, or {@code --config FILE} / {@code --config=FILE}
     * @param metricsPort the key of the component's metrics port
     * @param starter starts the component
     */
    public static void run(String name, String[] args, ConfigKey<Integer> metricsPort, Starter starter) {
        // before anything can build or read a record, whatever the component touches first
        AvroTrust.install();
        int status = runUntilStopped(name, args, metricsPort, starter);
        if (status != 0) {
            // the metrics server's threads would otherwise keep a failed process alive
            System.exit(status);
        }
    }

    private static int runUntilStopped(String name, String[] args, ConfigKey<Integer> metricsPort, Starter starter) {
        MetricsServer metrics = null;
        try {
            ConfigSource source = ConfigSource.fromEnvironment(configFile(name, args));
            Map<String, Object> kafka = source.kafkaProperties();
            if (!kafka.containsKey(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG)) {
                throw new ConfigException("missing required configuration kdiag.kafka.bootstrap.servers "
                        + "(environment KDIAG_KAFKA_BOOTSTRAP_SERVERS): the Kafka brokers to connect to");
            }
            LOG.info("starting component={} kafka={}", name, ConfigSource.redacted(kafka));
            if (source.get(CommonKeys.CREATE_TOPICS)) {
                TopicAdmin.ensureTopics(kafka, new Topics(source.get(CommonKeys.TOPIC_PREFIX)), source.get(CommonKeys.PARTITIONS),
                        source.get(CommonKeys.REPLICATION_FACTOR).shortValue());
            }
            int port = source.get(metricsPort);
            try {
                metrics = MetricsServer.start(source.get(CommonKeys.BIND_ADDRESS), port);
            } catch (IOException e) {
                throw new ConfigException("cannot serve metrics on " + metricsPort.name() + "=" + port + ": " + e.getMessage());
            }
            Running component = starter.start(source, kafka, metrics.registry());
            if (component.health() != null) {
                metrics.serve(component.health());
            }
            AtomicBoolean shuttingDown = new AtomicBoolean();
            MetricsServer served = metrics;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                shuttingDown.set(true);
                LOG.info("stopping component={}", name);
                component.close();
                served.close();
            }, "kdiag-shutdown"));
            LOG.info("running component={} metricsPort={}", name, metrics.port());
            try {
                component.stopped().join();
            } catch (CompletionException e) {
                LOG.error("component failed component={}", name, e.getCause());
                return 1;
            }
            if (shuttingDown.get()) {
                return 0;
            }
            LOG.error("component stopped on its own component={}", name);
            return 1;
        } catch (ConfigException e) {
            LOG.error("invalid configuration component={}: {}", name, e.getMessage());
            close(metrics);
            return 2;
        } catch (RuntimeException e) {
            LOG.error("component not started component={}: {}", name, e.getMessage(), e);
            close(metrics);
            return 1;
        }
    }

    /** The properties file named by {@code --config FILE} or {@code --config=FILE}; {@code null} when none. */
    static Path configFile(String name, String[] args) {
        if (args.length == 0) {
            return null;
        }
        if (args.length == 2 && args[0].equals("--config")) {
            return Path.of(args[1]);
        }
        if (args.length == 1 && args[0].startsWith("--config=")) {
            return Path.of(args[0].substring("--config=".length()));
        }
        throw new ConfigException("usage: " + name + " [--config FILE]");
    }

    private static void close(MetricsServer metrics) {
        if (metrics != null) {
            metrics.close();
        }
    }
}
