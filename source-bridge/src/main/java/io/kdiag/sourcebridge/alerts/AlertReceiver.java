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
import io.kdiag.common.metrics.KubeDiagMetric;
import io.kdiag.common.metrics.KubeDiagMetrics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.sourcebridge.gate.BridgeMetrics;
import io.kdiag.sourcebridge.gate.Gate;
import io.kdiag.sourcebridge.gate.SourceDeadLetters;
import io.kdiag.sourcebridge.gate.Submission;
import io.kdiag.sourcebridge.gate.Verdict;
import io.kdiag.sourcebridge.request.AbnormalNames;
import io.kdiag.sourcebridge.request.Refusal;
import io.kdiag.sourcebridge.rules.RuleBook;
import io.kdiag.sourcebridge.rules.RuleMatch;
import io.kdiag.sourcebridge.rules.SourceRule;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Alertmanager endpoint: {@code POST /api/v1/alerts}, {@code /api/v2/alerts} and {@code /webhook} take a list of
 * alerts or a webhook payload (either shape on every path); {@code GET /healthz} and {@code /readyz} answer the bridge's
 * {@link Health}. Alerts are handled one by one, as KubeDiag did: each firing alert is matched against the
 * PrometheusAlert rules; the first match becomes {@code prometheus-alert.<alertname>.<fp7>} on the node named by the
 * rule's {@code nodeNameReferenceLabel} (else the pod of the {@code namespace}/{@code pod} labels); a match without a
 * node, and an entry that is not an alert, are dead-lettered ({@link SourceDeadLetters}) while the others go on. The
 * answer comes once the forwarded alerts are committed: 200 with counts, 400 with the reason for a body that is no
 * alert payload at all, 503 if the gate could not take them (Alertmanager then retries).
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
    private final SourceDeadLetters deadLetters;
    private final MeterRegistry registry;
    private final KubeDiagMetrics kubediag;
    private final Health health;

    private AlertReceiver(HttpServer server, ExecutorService executor, Gate gate, RuleBook rules, String abnormalNamespace,
            BiFunction<String, String, String> podNode, SourceDeadLetters deadLetters, MeterRegistry registry, Health health) {
        this.server = server;
        this.executor = executor;
        this.gate = gate;
        this.rules = rules;
        this.abnormalNamespace = abnormalNamespace;
        this.podNode = podNode;
        this.deadLetters = deadLetters;
        this.registry = registry;
        this.kubediag = KubeDiagMetrics.of(registry);
        this.health = health;
    }

    /**
     * Serves on {@code host:port} (0 picks a free port).
     *
     * @param podNode the node of a pod (namespace, name), or {@code null}; without a cluster it always answers {@code null}
     * @param deadLetters where matched alerts without a node and entries that are not alerts go
     * @param health what the probes answer
     */
    public static AlertReceiver start(String host, int port, Gate gate, RuleBook rules, String abnormalNamespace,
            BiFunction<String, String, String> podNode, SourceDeadLetters deadLetters, MeterRegistry registry, Health health)
            throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 0);
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> new Thread(r, "kdiag-alert-receiver"));
        AlertReceiver receiver = new AlertReceiver(server, executor, gate, rules, abnormalNamespace, podNode, deadLetters, registry,
                health);
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
        kubediag.increment(KubeDiagMetric.PROMETHEUS_ALERT_RECEIVED_COUNT);
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
                kubediag.increment(KubeDiagMetric.ALERTMANAGER_ABNORMAL_GENERATION_ERROR_COUNT);
                HttpResponses.send(exchange, 413, "application/json", ApiSerialization.json(Map.of("reason", "PayloadTooLarge",
                        "message", "the body is over " + MAX_BODY + " bytes")));
                return;
            }
        }
        AlertPayload.Payload payload;
        try {
            payload = AlertPayload.parse(new String(body, StandardCharsets.UTF_8), Instant.now());
        } catch (AlertPayload.Malformed e) {
            BridgeMetrics.unforwarded(registry, SOURCE, "malformed");
            kubediag.increment(KubeDiagMetric.ALERTMANAGER_ABNORMAL_GENERATION_ERROR_COUNT);
            LOG.info("refusing an alert payload: {}", e.getMessage());
            HttpResponses.send(exchange, 400, "application/json", ApiSerialization.json(Map.of("reason", "MalformedAlerts", "message", e.getMessage())));
            return;
        }
        kubediag.increment(KubeDiagMetric.ALERTMANAGER_ABNORMAL_GENERATION_SUCCESS_COUNT);
        Map<String, Integer> counts = new LinkedHashMap<>();
        counts.put("alerts", payload.alerts().size() + payload.invalid().size());
        for (AlertPayload.Invalid invalid : payload.invalid()) {
            String json = ApiSerialization.json(invalid.entry());
            deadLetters.report(SOURCE, new Refusal(Refusal.Kind.BAD_SHAPE, invalid.message()), AbnormalNames.hash(json, 16),
                    invalid.entry());
            counts.merge("invalid", 1, Integer::sum);
        }
        List<CompletableFuture<Verdict>> verdicts = new ArrayList<>();
        for (AlertPayload.Alert alert : payload.alerts()) {
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
            verdicts.stream().filter(v -> !v.isDone() || v.isCompletedExceptionally()).forEach(v -> {
                kubediag.increment(KubeDiagMetric.ALERTMANAGER_ABNORMAL_GENERATION_ERROR_COUNT);
                kubediag.increment(KubeDiagMetric.SOURCE_MANAGER_SYNC_ERROR_COUNT);
            });
            HttpResponses.send(exchange, 503, "application/json", ApiSerialization.json(Map.of("reason", "Unavailable",
                    "message", "the bridge could not forward the alerts now; send them again")));
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            HttpResponses.send(exchange, 503, "text/plain", "interrupted\n");
            return;
        }
        outcomes.forEach((outcome, n) -> counts.put(outcome.name().toLowerCase(Locale.ROOT).replace('_', '-'), n));
        Map<String, Object> answer = new LinkedHashMap<>(counts);
        if (counts.containsKey("unmatched")) {
            answer.put("unmatchedReason", rules.whyNoAlertRuleMatched());
        }
        HttpResponses.send(exchange, 200, "application/json", ApiSerialization.json(answer));
    }

    /**
     * Submits a firing alert that a rule matches; returns why it was not submitted ({@code resolved}, {@code unmatched},
     * {@code no-node}), or {@code null} if it was.
     */
    private String offer(AlertPayload.Alert alert, List<CompletableFuture<Verdict>> verdicts) {
        if (alert.resolved()) {
            BridgeMetrics.unforwarded(registry, SOURCE, "resolved");
            return "resolved";
        }
        // as KubeDiag's source manager: every firing alert looked at without error is a sync, matched or not
        Optional<SourceRule> rule = rules.firstMatching(alert.alert());
        if (rule.isEmpty()) {
            BridgeMetrics.unforwarded(registry, SOURCE, "no-rule");
            kubediag.increment(KubeDiagMetric.SOURCE_MANAGER_SYNC_SUCCESS_COUNT);
            return "unmatched";
        }
        Optional<RuleMatch> match = match(alert, rule.get());
        if (match.isEmpty()) {
            kubediag.increment(KubeDiagMetric.SOURCE_MANAGER_SYNC_SUCCESS_COUNT);
            return "no-node";
        }
        CompletableFuture<Verdict> verdict = gate.submit(match.get().submission());
        verdicts.add(verdict);
        verdict.thenAcceptAsync(v -> {
            kubediag.increment(KubeDiagMetric.SOURCE_MANAGER_SYNC_SUCCESS_COUNT);
            if (v.outcome() == Verdict.Outcome.FORWARDED) {
                kubediag.increment(KubeDiagMetric.PROMETHEUS_ALERT_GENERATED_ABNORMAL_CREATION_COUNT);
                rules.recordLastAbnormal(match.get().rule(), match.get().submission().request());
            }
        }, executor);
        return null;
    }

    /** The abnormal {@code rule} starts for a firing alert it matched, or empty (and a dead letter) when no node is known. */
    Optional<RuleMatch> match(AlertPayload.Alert alert, SourceRule rule) {
        Map<String, String> labels = alert.alert().labels;
        String label = rule.nodeNameReferenceLabel();
        String node = label == null || label.isBlank() ? null : blankToNull(labels.get(label));
        String podNamespace = blankToNull(labels.get("namespace"));
        String podName = blankToNull(labels.get("pod"));
        if (node == null && podNamespace != null && podName != null) {
            node = podNode.apply(podNamespace, podName);
        }
        if (node == null) {
            Map<String, Object> original = new LinkedHashMap<>(ApiSerialization.jsonObject(ApiSerialization.json(alert.alert())));
            original.put("fingerprint", alert.fingerprint());
            deadLetters.report(SOURCE, new Refusal(Refusal.Kind.NO_NODE, "alert " + alert.alertName() + " (fingerprint "
                    + alert.fingerprint() + ") matched the AbnormalSource " + rule.key() + " but names no node: "
                    + (label == null || label.isBlank() ? "the rule has no nodeNameReferenceLabel" : "it has no label " + label)
                    + (podNamespace != null && podName != null ? ", and the pod " + podNamespace + "/" + podName + " is not known"
                            : ", nor labels namespace and pod of a pod to take the node from")), alert.fingerprint(), original);
            return Optional.empty();
        }
        AbnormalSpec spec = rule.abnormalSpec(node);
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
        return Optional.of(new RuleMatch(rule, new Submission(SOURCE, request, "alert/" + fingerprint, true, true)));
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
