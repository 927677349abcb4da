package io.kdiag.common.metrics;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;

import com.sun.net.httpserver.HttpServer;
import io.kdiag.common.health.Health;
import io.kdiag.common.http.HttpResponses;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * Serves a Prometheus registry at {@code GET /metrics} (port 10357 by default), followed by the KubeDiag-named series
 * its components count ({@link KubeDiagMetrics}), and the probes of a component without a port of its own.
 */
public final class MetricsServer implements AutoCloseable {
    /** The port every component serves its metrics on. */
    public static final int DEFAULT_PORT = 10357;

    private final PrometheusMeterRegistry registry;
    private final HttpServer server;

    private MetricsServer(PrometheusMeterRegistry registry, HttpServer server) {
        this.registry = registry;
        this.server = server;
    }

    /** A new registry, served on {@code host:port}; port 0 picks a free one. */
    public static MetricsServer start(String host, int port) throws IOException {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 0);
        server.createContext("/metrics", exchange -> {
            HttpResponses.send(exchange, 200, "text/plain; version=0.0.4; charset=utf-8",
                    registry.scrape() + KubeDiagMetrics.of(registry).scrape());
        });
        server.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "kdiag-metrics-http");
            t.setDaemon(true);
            return t;
        }));
        server.start();
        return new MetricsServer(registry, server);
    }

    /** Answers {@code GET /healthz} and {@code /readyz} from {@code health} too. */
    public void serve(Health health) {
        server.createContext(Health.LIVENESS_PATH, exchange -> health.answer(exchange, Health.LIVENESS_PATH));
        server.createContext(Health.READINESS_PATH, exchange -> health.answer(exchange, Health.READINESS_PATH));
    }

    /** The registry whose meters are served. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The port actually bound. */
    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        registry.close();
    }
}
