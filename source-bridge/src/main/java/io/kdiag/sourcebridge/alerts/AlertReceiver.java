package io.kdiag.sourcebridge.alerts;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.PodReference;
import io.kdiag.common.health.Health;
import io.kdiag.common.http.HttpResponses;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.sourcebridge.gate.BridgeMetrics;
import io.kdiag.sourcebridge.gate.Gate;
import io.kdiag.sourcebridge.gate.Submission;
import io.kdiag.sourcebridge.gate.Verdict;
import io.kdiag.sourcebridge.request.AbnormalNames;
import io.kdiag.sourcebridge.rules.RuleBook;
import io.kdiag.sourcebridge.rules.RuleMatch;
import io.kdiag.sourcebridge.rules.SourceRule;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Alertmanager endpoint: {@code POST /api/v1/alerts}, {@code /api/v2/alerts} and {@code /webhook} take a list of
 * alerts or a webhook payload (either shape on every path); {@code GET /healthz} and {@code /readyz} answer the bridge's
 * {@link Health}. Each firing alert is
 * matched against the PrometheusAlert rules; the first match becomes {@code prometheus-alert.<alertname>.<fp7>} on the
 * node named by the rule's {@code nodeNameReferenceLabel} (else the pod of the {@code namespace}/{@code pod} labels).
 * The answer comes once the forwarded alerts are committed: 200 with counts, 400 with the reason for a malformed
 * body, 503 if the gate could not take them (Alertmanager then retries).
 */
public final class AlertReceiver implements AutoCloseable {
    static final String SOURCE = BridgeMetrics.SOURCE_PROMETHEUS_ALERT;
    static final Set<String> ALERT_PATHS = Set.of("/api/v1/alerts", "/api/v2/alerts", "/webhook");
    private static final Logger LOG = LoggerFactory.getLogger(AlertReceiver.class);
    private static final int MAX_BODY = 2 * 1024 * 1024;
    /** How much of an oversized body is read and thrown away so that its sender sees the 413. */
    private static final long MAX_DRAIN = 64L * 1024 * 1024;
    private static final Duration COMMIT_WAIT = Duration.ofSeconds(30);

    private final HttpServer server;
    private final ExecutorService executor;
    private final Gate gate;
    private final RuleBook rules;
    private final String abnormalNamespace;
    private final BiFunction<String, String, String> podNode;
    private final MeterRegistry registry;
    private final Health health;

    private AlertReceiver(HttpServer server, ExecutorService executor, Gate gate, RuleBook rules, String abnormalNamespace,
            BiFunction<String, String, String> podNode, MeterRegistry registry, Health health) {
        this.server = server;
        this.executor = executor;
        this.gate = gate;
        this.rules = rules;
        this.abnormalNamespace = abnormalNamespace;
        this.podNode = podNode;
        this.registry = registry;
        this.health = health;
    }

    /**
     * Serves on {@code port} (0 picks a free one) on all interfaces.
     *
     * @param podNode the node of a pod (namespace, name), or {@code null}; without a cluster it always answers {@code null}
     * @param health what the probes answer
     */
    public static AlertReceiver start(int port, Gate gate, RuleBook rules, String abnormalNamespace,
            BiFunction<String, String, String> podNode, MeterRegistry registry, Health health) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> new Thread(r, "kdiag-alert-receiver"));
        AlertReceiver receiver = new AlertReceiver(server, executor, gate, rules, abnormalNamespace, podNode, registry, health);
        server.createContext("/", receiver::handle);
        server.setExecutor(executor);
        server.start();
        LOG.info("Alertmanager endpoint on port={}", receiver.port());
        return receiver;
    }

    /** The port it serves on. */
    public int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String method = exchange.getRequestMethod();
            if (Health.isProbe(path)) {
                health.answer(exchange, path);
            } else if (!ALERT_PATHS.contains(path)) {
                HttpResponses.send(exchange, 404, "text/plain", "no such endpoint: " + path + "\n");
            } else if (!"POST".equals(method)) {
                exchange.getResponseHeaders().add("Allow", "POST");
                HttpResponses.send(exchange, 405, "text/plain", "use POST on " + path + "\n");
            } else {
                receive(exchange);
            }
        } catch (RuntimeException e) {
            LOG.error("failed on an alert request", e);
        }
    }

    private void receive(HttpExchange exchange) throws IOException {
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readNBytes(MAX_BODY + 1);
            if (body.length > MAX_BODY) {
                // a client still sending never reads the answer: take what is left (within reason), then hang up
                byte[] buffer = new byte[64 * 1024];
                long drained = 0;
                for (int n = in.read(buffer); n >= 0 && drained < MAX_DRAIN; n = in.read(buffer)) {
                    drained += n;
                }
                exchange.getResponseHeaders().add("Connection", "close");
                HttpResponses.send(exchange, 413, "application/json", ApiSerialization.json(Map.of("reason", "PayloadTooLarge",
                        "message", "the body is over " + MAX_BODY + " bytes")));
                return;
            }
        }
        List<AlertPayload.Alert> alerts;
        try {
            alerts = AlertPayload.parse(new String(body, StandardCharsets.UTF_8), Instant.now());
        } catch (AlertPayload.Malformed e) {
            BridgeMetrics.unforwarded(registry, SOURCE, "malformed");
            LOG.info("refusing an alert payload: {}", e.getMessage());
            HttpResponses.send(exchange, 400, "application/json", ApiSerialization.json(Map.of("reason", "MalformedAlerts", "message", e.getMessage())));
            return;
        }
        Map<String, Integer> counts = new LinkedHashMap<>();
        counts.put("alerts", alerts.size());
        List<CompletableFuture<Verdict>> verdicts = new ArrayList<>();
        for (AlertPayload.Alert alert : alerts) {
            String outcome = offer(alert, verdicts);
            if (outcome != null) {
                counts.merge(outcome, 1, Integer::sum);
            }
        }
        Map<Verdict.Outcome, Integer> outcomes = new EnumMap<>(Verdict.Outcome.class);
        try {
            CompletableFuture.allOf(verdicts.toArray(CompletableFuture[]::new)).get(COMMIT_WAIT.toSeconds(), TimeUnit.SECONDS);
            for (CompletableFuture<Verdict> verdict : verdicts) {
                outcomes.merge(verdict.join().outcome(), 1, Integer::sum);
            }
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("alerts were not committed: {}", e.toString());
            HttpResponses.send(exchange, 503, "application/json", ApiSerialization.json(Map.of("reason", "Unavailable",
                    "message", "the bridge could not forward the alerts now; send them again")));
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            HttpResponses.send(exchange, 503, "text/plain", "interrupted\n");
            return;
        }
        outcomes.forEach((outcome, n) -> counts.put(outcome.name().toLowerCase(Locale.ROOT).replace('_', '-'), n));
        HttpResponses.send(exchange, 200, "application/json", ApiSerialization.json(counts));
    }

    /** Submits a firing alert that a rule matches; returns why it was not submitted, or {@code null} if it was. */
    private String offer(AlertPayload.Alert alert, List<CompletableFuture<Verdict>> verdicts) {
        if (alert.resolved()) {
            BridgeMetrics.unforwarded(registry, SOURCE, "resolved");
            return "resolved";
        }
        Optional<RuleMatch> match = match(alert);
        if (match.isEmpty()) {
            return "unmatched";
        }
        CompletableFuture<Verdict> verdict = gate.submit(match.get().submission());
        verdicts.add(verdict);
        verdict.thenAcceptAsync(v -> {
            if (v.outcome() == Verdict.Outcome.FORWARDED) {
                rules.recordLastAbnormal(match.get().rule(), match.get().submission().request().getName());
            }
        }, executor);
        return null;
    }

    /** The first matching rule's abnormal for a firing alert, or empty when no rule matches or no node is known. */
    Optional<RuleMatch> match(AlertPayload.Alert alert) {
        Optional<SourceRule> rule = rules.firstMatching(alert.alert());
        if (rule.isEmpty()) {
            BridgeMetrics.unforwarded(registry, SOURCE, "no-rule");
            return Optional.empty();
        }
        Map<String, String> labels = alert.alert().labels;
        String label = rule.get().nodeNameReferenceLabel();
        String node = label == null || label.isBlank() ? null : blankToNull(labels.get(label));
        String podNamespace = blankToNull(labels.get("namespace"));
        String podName = blankToNull(labels.get("pod"));
        if (node == null && podNamespace != null && podName != null) {
            node = podNode.apply(podNamespace, podName);
        }
        if (node == null) {
            BridgeMetrics.unforwarded(registry, SOURCE, "no-node");
            LOG.info("alert matched rule={} but names no node alertname={} fingerprint={}", rule.get().key(), alert.alertName(),
                    alert.fingerprint());
            return Optional.empty();
        }
        AbnormalSpec spec = rule.get().abnormalSpec(node);
        spec.source = SourceRule.ALERT;
        spec.prometheusAlert = alert.alert();
        if (podNamespace != null && podName != null) {
            PodReference pod = new PodReference();
            pod.namespace = podNamespace;
            pod.name = podName;
            pod.containerName = blankToNull(labels.get("container"));
            spec.podReference = pod;
        }
        String fingerprint = alert.fingerprint();
        AbnormalRequest request = AbnormalRequest.newBuilder()
                .setUid(AbnormalNames.uid("alert/" + fingerprint + "/" + alert.alert().startsAt))
                .setNamespace(abnormalNamespace)
                .setName(AbnormalNames.sanitize("prometheus-alert." + alert.alertName().toLowerCase(Locale.ROOT) + "."
                        + fingerprint.substring(0, Math.min(7, fingerprint.length()))))
                .setNodeName(node)
                .setOrigin(Origin.PrometheusAlert)
                .setRequestedAt(Instant.now())
                .setSpec(ApiSerialization.json(spec))
                .setLabels(Map.of())
                .build();
        return Optional.of(new RuleMatch(rule.get(), new Submission(SOURCE, request, "alert/" + fingerprint, true, true)));
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }

    @Override
    public void close() {
        // no grace period: Java 17 waits all of it even when idle, and Alertmanager sends again what was cut off
        server.stop(0);
        executor.shutdownNow();
    }
}
