package io.kdiag.sourcebridge;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiFunction;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kdiag.common.health.Health;
import io.kdiag.common.kafka.KafkaNames;
import io.kdiag.common.kubernetes.KubernetesConnection;
import io.kdiag.schemas.Topics;
import io.kdiag.sourcebridge.alerts.AlertReceiver;
import io.kdiag.common.metrics.KubeDiagMetric;
import io.kdiag.common.metrics.KubeDiagMetrics;
import io.kdiag.sourcebridge.gate.Gate;
import io.kdiag.sourcebridge.gate.SourceDeadLetters;
import io.kdiag.sourcebridge.kubernetes.AbnormalInformer;
import io.kdiag.sourcebridge.kubernetes.ApprovalRelay;
import io.kdiag.sourcebridge.kubernetes.CrMirror;
import io.kdiag.sourcebridge.kubernetes.EventSource;
import io.kdiag.sourcebridge.kubernetes.PodNodes;
import io.kdiag.sourcebridge.rules.RuleBook;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source bridge: the single gate into {@code kdiag.abnormals}. It forwards the open ingest topic
 * {@code kdiag.abnormal-requests} and the Alertmanager endpoint, and, when a cluster is configured, new Abnormal CRs and
 * the Kubernetes Events and alerts that AbnormalSource rules match; it creates an Abnormal CR for everything that did
 * not start as one. All of it goes through one {@link Gate}: validated, de-duplicated, storm-limited, exactly once.
 */
public final class SourceBridge implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SourceBridge.class);

    private final Gate gate;
    private final Deque<AutoCloseable> parts;
    private final AlertReceiver alerts;

    private SourceBridge(Gate gate, Deque<AutoCloseable> parts, AlertReceiver alerts) {
        this.gate = gate;
        this.parts = parts;
        this.alerts = alerts;
    }

    /**
     * Starts the bridge, with a cluster if {@code kdiag.kubernetes} says so, and returns once every source runs.
     *
     * @param config the bridge's configuration
     * @param kafka Kafka client settings (bootstrap servers, TLS, SASL); group, delivery and serializer settings are
     *     the bridge's own
     * @param registry where the {@code kdiag.bridge.*} counters go
     * @throws IllegalStateException if the bridge could not start
     */
    public static SourceBridge start(SourceBridgeConfig config, Map<String, Object> kafka, MeterRegistry registry) {
        KubernetesClient client = KubernetesConnection.connect(config.kubernetes(), "source-bridge").orElse(null);
        SourceBridge bridge;
        try {
            bridge = start(config, kafka, registry, client);
        } catch (RuntimeException e) {
            if (client != null) {
                client.close();
            }
            throw e;
        }
        if (client != null) {
            bridge.parts.addLast(client);
        }
        return bridge;
    }

    /** Starts the bridge on a given cluster, or none with {@code null}; the caller keeps owning the client. */
    public static SourceBridge start(SourceBridgeConfig config, Map<String, Object> kafka, MeterRegistry registry, KubernetesClient client) {
        Topics topics = Topics.publishing(config.topicPrefix(), kafka);
        Deque<AutoCloseable> parts = new ArrayDeque<>();
        CrMirror mirror = client == null ? null : new CrMirror(client, registry);
        Gate gate;
        try {
            KafkaNames names = new KafkaNames(config.topicPrefix());
            gate = Gate.start(topics, kafka, new Gate.IngestGroup(names.bridgeGroup(), config.instanceId(), config.commitInterval()),
                    config.gateOptions(), config.signingKey(), mirror, registry);
        } catch (RuntimeException e) {
            if (mirror != null) {
                mirror.close();
            }
            throw e;
        }
        try {
            // closed in reverse: the sources, then the gate, then the mirror it feeds
            if (mirror != null) {
                parts.push(mirror);
            }
            parts.push(gate);
            ExecutorService followUps = Executors.newSingleThreadExecutor(r -> new Thread(r, "kdiag-bridge-follow-ups"));
            parts.push(followUps::shutdownNow);
            SourceDeadLetters deadLetters = SourceDeadLetters.of(topics, kafka, config.repeatInterval(), registry);
            parts.push(deadLetters);
            KubeDiagMetrics.of(registry).register(KubeDiagMetric.Component.BRIDGE);
            RuleBook rules = new RuleBook(client, config.templateTimeZone());
            config.ruleFiles().forEach(rules::load);
            if (!config.ruleFiles().isEmpty()) {
                LOG.info("rules read from files count={}", config.ruleFiles().size());
            }
            BiFunction<String, String, String> podNode = (namespace, name) -> null;
            if (client != null) {
                PodNodes pods = new PodNodes(client);
                podNode = pods::nodeOf;
                parts.push(rules.start());
                Optional<ApprovalRelay> approvals = config.approvalRelayKey()
                        .map(key -> ApprovalRelay.start(client, topics.approvals(), kafka, key, registry));
                approvals.ifPresentOrElse(parts::push, () -> LOG.info("approval annotations not relayed: no kdiag.approval-relay-key"));
                parts.push(new AbnormalInformer(client, gate, followUps, approvals).start());
                parts.push(new EventSource(client, gate, rules, config.abnormalNamespace(), followUps, deadLetters, registry).start());
            }
            AlertReceiver alerts = AlertReceiver.start(config.bindAddress(), config.httpPort(), gate, rules, config.abnormalNamespace(),
                    podNode, deadLetters, registry, new Health(List.of(gate.liveness()), List.of()));
            parts.push(alerts);
            SourceBridge bridge = new SourceBridge(gate, parts, alerts);
            LOG.info("source bridge started cluster={} alertPort={}", client != null, alerts.port());
            return bridge;
        } catch (IOException e) {
            closeAll(parts);
            throw new IllegalStateException("cannot serve the Alertmanager endpoint on kdiag.http-port=" + config.httpPort()
                    + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeAll(parts);
            throw e;
        }
    }

    /** The port of the Alertmanager endpoint. */
    public int httpPort() {
        return alerts.port();
    }

    /** Completes when forwarding has ended: normally after {@link #close()}, exceptionally if it failed. */
    CompletableFuture<Void> stopped() {
        return gate.stopped();
    }

    /** Stops every source, then the gate once its batches in flight are acknowledged. */
    @Override
    public void close() {
        closeAll(parts);
    }

    private static void closeAll(Deque<AutoCloseable> parts) {
        while (!parts.isEmpty()) {
            AutoCloseable part = parts.pop();
            try {
                part.close();
            } catch (Exception e) {
                LOG.warn("closing a part of the bridge failed: {}", e.toString());
            }
        }
    }
}
