package io.kdiag.sourcebridge.log;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.common.health.Health;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.sourcebridge.gate.BridgeMetrics;
import io.kdiag.sourcebridge.gate.Gate;
import io.kdiag.sourcebridge.gate.Submission;
import io.kdiag.sourcebridge.gate.Verdict;
import io.kdiag.sourcebridge.kubernetes.CrMirror;
import io.kdiag.sourcebridge.request.AbnormalNames;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node-local log source: follows the logs named by node-problem-detector monitor files (kmsg, journald, files),
 * and turns each match of a rule, as NPD matches ({@link LogBuffer}), into an abnormal for this node ({@code log.<reason>.<hash>}, origin {@code Log},
 * spec from the reason's template, the line in {@code context.logEntry}), through the same {@link Gate} as the bridge.
 * A follower's checkpoint moves past a line only once Kafka acknowledged the abnormals it started, and the gate remembers
 * every line's uid, so no line is lost across crashes and restarts, and a line is reported again only if the crash came
 * between its forward and its dedup entry (the agent runs a uid once).
 */
public final class LogSource implements AutoCloseable, LineSink {
    static final String SOURCE = BridgeMetrics.SOURCE_LOG;
    private static final Logger LOG = LoggerFactory.getLogger(LogSource.class);
    private static final long COMMIT_WAIT_SECONDS = 60;

    private final String node;
    private final LogTemplates templates;
    private final Gate gate;
    private final CrMirror mirror;
    private final List<Thread> threads = new ArrayList<>();
    private final List<Follower> followers = new ArrayList<>();
    /** The latest messages of each monitor's log, by {@link MonitorConfig#id()}; each used by its follower's thread only. */
    private final Map<String, LogBuffer> buffers = new ConcurrentHashMap<>();
    private final CompletableFuture<Void> failed = new CompletableFuture<>();
    private volatile boolean running = true;

    private LogSource(String node, LogTemplates templates, Gate gate, CrMirror mirror) {
        this.node = node;
        this.templates = templates;
        this.gate = gate;
        this.mirror = mirror;
    }

    /**
     * Starts the gate and a follower per monitor.
     *
     * @param client the cluster to mirror CRs into, or {@code null}
     */
    public static LogSource start(LogSourceConfig config, Map<String, Object> kafka, MeterRegistry registry, KubernetesClient client) {
        CrMirror mirror = client == null ? null : new CrMirror(client, registry);
        Gate gate;
        try {
            gate = Gate.start(Topics.publishing(config.topicPrefix(), kafka), kafka, null, config.gateOptions(), config.signingKey(),
                    mirror, registry);
        } catch (RuntimeException e) {
            if (mirror != null) {
                mirror.close();
            }
            throw e;
        }
        LogSource source = new LogSource(config.nodeName(), config.templates(), gate, mirror);
        Checkpoints checkpoints = new Checkpoints(config.stateDir());
        for (MonitorConfig monitor : config.monitors()) {
            Follower follower = switch (monitor.plugin()) {
                case "kmsg" -> new KmsgFollower(monitor, config.hostRoot(), checkpoints, source, config.poll());
                case "journald" -> new JournalFollower(monitor, config.hostRoot(), config.journalctl(), checkpoints, source, config.poll());
                default -> new FileFollower(monitor, underRoot(config.hostRoot(), monitor.logPath()), checkpoints, source);
            };
            source.follow(follower, "filelog".equals(monitor.plugin()) ? config.poll().toMillis() : 0);
        }
        LOG.info("log source started node={} monitors={}", config.nodeName(), config.monitors().size());
        return source;
    }

    /** {@code path} (absolute, as NPD names it) under the host root. */
    static Path underRoot(Path hostRoot, String path) {
        return hostRoot.resolve(path.startsWith("/") ? path.substring(1) : path);
    }

    private void follow(Follower follower, long pauseMillis) {
        followers.add(follower);
        Thread thread = new Thread(() -> {
            try {
                while (running) {
                    follower.step();
                    if (pauseMillis > 0) {
                        Thread.sleep(pauseMillis);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                if (running) {
                    LOG.error("following {} failed: {}", follower.id(), e.toString(), e);
                    failed.completeExceptionally(e);
                }
            }
        }, "kdiag-log-" + follower.id());
        // a read of /dev/kmsg blocks and cannot be interrupted; it must not keep the process alive
        thread.setDaemon(true);
        threads.add(thread);
        thread.start();
    }

    /** Alive while its gate is: a follower that fails stops the process. */
    public Health health() {
        return new Health(List.of(gate.liveness()), List.of());
    }

    /** Completes exceptionally when a follower or the gate failed; never completes normally before {@link #close()}. */
    public CompletableFuture<Void> failed() {
        return CompletableFuture.anyOf(failed, gate.stopped()).thenApply(x -> null);
    }

    @Override
    public void accept(MonitorConfig monitor, List<LogLine> lines) throws Exception {
        LogBuffer buffer = buffers.computeIfAbsent(monitor.id(), id -> new LogBuffer(monitor.bufferSize()));
        List<CompletableFuture<Verdict>> verdicts = new ArrayList<>();
        for (LogLine line : lines) {
            buffer.push(line.message());
            for (MonitorConfig.Rule rule : monitor.rules()) {
                String matched = buffer.match(rule);
                if (matched != null) {
                    verdicts.add(gate.submit(submission(monitor, rule, line, matched)));
                }
            }
        }
        for (CompletableFuture<Verdict> verdict : verdicts) {
            verdict.get(COMMIT_WAIT_SECONDS, TimeUnit.SECONDS);
        }
    }

    /** The abnormal a rule's match ending in {@code line} starts; {@code message}: the messages it matched. */
    Submission submission(MonitorConfig monitor, MonitorConfig.Rule rule, LogLine line, String message) {
        String identity = node + "/" + line.position() + "/" + rule.reason();
        AbnormalSpec spec = templates.specFor(rule.reason());
        spec.nodeName = node;
        spec.source = "Log";
        Map<String, Object> context = spec.context == null ? new LinkedHashMap<>() : new LinkedHashMap<>(spec.context);
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("source", monitor.source());
        entry.put("plugin", monitor.plugin());
        entry.put("logPath", monitor.logPath());
        entry.put("type", rule.type());
        if (rule.condition() != null) {
            entry.put("condition", rule.condition());
        }
        entry.put("reason", rule.reason());
        entry.put("message", message);
        context.put("logEntry", entry);
        spec.context = context;
        AbnormalRequest request = AbnormalRequest.newBuilder()
                .setUid(AbnormalNames.uid("log/" + identity))
                .setNamespace(templates.namespace())
                .setName(AbnormalNames.sanitize("log." + rule.reason().toLowerCase(Locale.ROOT) + "." + AbnormalNames.hash(identity, 10)))
                .setNodeName(node)
                .setOrigin(Origin.Log)
                .setRequestedAt(Instant.now())
                .setSpec(ApiSerialization.json(spec))
                .setLabels(Map.of())
                .build();
        return new Submission(SOURCE, request, "reason/" + rule.reason(), true, true);
    }

    /** Stops the followers, then the gate. */
    @Override
    public void close() {
        running = false;
        for (Thread thread : threads) {
            thread.interrupt();
        }
        for (Thread thread : threads) {
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Follower follower : followers) {
            try {
                follower.close();
            } catch (Exception e) {
                LOG.warn("closing the follower of {} failed: {}", follower.id(), e.toString());
            }
        }
        gate.close();
        if (mirror != null) {
            mirror.close();
        }
    }
}
