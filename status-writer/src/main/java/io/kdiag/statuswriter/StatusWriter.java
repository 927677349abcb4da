package io.kdiag.statuswriter;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kdiag.common.kafka.EvidenceRetention;
import io.kdiag.common.kafka.KafkaNames;
import io.kdiag.common.kubernetes.KubernetesConnection;
import io.kdiag.schemas.Evidence;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.statuswriter.budget.BudgetArbiterTopology;
import io.kdiag.statuswriter.budget.BudgetMetrics;
import io.kdiag.statuswriter.fold.DeadLetterDeserializationHandler;
import io.kdiag.statuswriter.fold.DeadLetterProcessingHandler;
import io.kdiag.statuswriter.fold.DeadLetterProductionHandler;
import io.kdiag.statuswriter.fold.StatusFoldTopology;
import io.kdiag.statuswriter.fold.WriterDeadLetters;
import io.kdiag.statuswriter.kubernetes.AbnormalReaper;
import io.kdiag.statuswriter.kubernetes.CrStatusWriter;
import io.kdiag.statuswriter.query.ApprovalRelay;
import io.kdiag.statuswriter.query.QueryServer;
import io.kdiag.statuswriter.query.StatusQueries;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.CloseOptions.GroupMembershipOperation;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running status writer: a Kafka Streams application of {@link StatusFoldTopology}, at least once over the fold's
 * idempotence (a replayed event changes no state and publishes the snapshot it led to again), with, when a budget
 * file is set, the recovery budget arbiter as a second application in the same process, exactly-once; the query API
 * on {@code kdiag.http-port} and, when connected to Kubernetes, the projection of every snapshot to its Abnormal CR's
 * status, the garbage collection of old CRs and, with {@code kdiag.approval-relay-key}, the approvals the query API
 * relays ({@link ApprovalRelay}). {@link #close()} stops it; its stores stay in the state directory for the next start.
 */
public final class StatusWriter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StatusWriter.class);
    private static final Duration START_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
    /** How long reading one value of evidence for the query API may take. */
    private static final Duration EVIDENCE_TIMEOUT = Duration.ofSeconds(30);
    /** What the start's check of the evidence topic's retention found: the number of problems, -1 when it could not look. */
    public static final String EVIDENCE_RETENTION_METRIC = "kdiag.evidence.retention.problems";
    private static final Duration RETENTION_CHECK_TIMEOUT = Duration.ofSeconds(10);
    /** Session of the writer in its group (Kafka's default: 45 s). */
    private static final int SESSION_TIMEOUT_MS = 10_000;
    /** How long the broker may hold a restore consumer's fetch that found nothing (Kafka's default: 500 ms). */
    private static final int RESTORE_FETCH_WAIT_MS = 20;
    /**
     * How often the fold commits its offsets and stores (Kafka's default at least once: 30 s). Nothing waits for it: a
     * snapshot is visible once sent. It bounds what a crash replays, and each commit flushes the store caches.
     */
    static final int FOLD_COMMIT_INTERVAL_MS = 1_000;

    private final KafkaStreams streams;
    /** The budget arbiter's application; {@code null} without a budget file. */
    private final KafkaStreams arbiter;
    private final StreamsHealth health;
    private final List<KafkaStreamsMetrics> metrics;
    private final CompletableFuture<KafkaStreams.State> stopped;
    private final QueryServer http;
    private final KafkaProducer<byte[], byte[]> decisions;
    private final CrStatusWriter crWriter;
    private final AbnormalReaper reaper;
    private final KubernetesClient ownedClient;

    private StatusWriter(KafkaStreams streams, KafkaStreams arbiter, StreamsHealth health, List<KafkaStreamsMetrics> metrics,
            CompletableFuture<KafkaStreams.State> stopped, QueryServer http, KafkaProducer<byte[], byte[]> decisions,
            CrStatusWriter crWriter, AbnormalReaper reaper,
            KubernetesClient ownedClient) {
        this.streams = streams;
        this.arbiter = arbiter;
        this.health = health;
        this.metrics = metrics;
        this.stopped = stopped;
        this.http = http;
        this.decisions = decisions;
        this.crWriter = crWriter;
        this.reaper = reaper;
        this.ownedClient = ownedClient;
    }

    /**
     * Starts the application and returns once it is running. Connects to Kubernetes as {@code kdiag.kubernetes} says.
     *
     * @param config the status writer's configuration
     * @param kafka Kafka client settings (bootstrap servers, TLS, SASL), passed through to Kafka Streams
     * @param registry where Kafka Streams' metrics and the status writer's own are published
     * @throws IllegalStateException when it stops or fails before running, or is not running within 2 minutes, or
     *         the query port cannot be opened
     */
    public static StatusWriter start(StatusWriterConfig config, Map<String, Object> kafka, MeterRegistry registry) {
        KubernetesClient client = KubernetesConnection.connect(config.kubernetes(), "status-writer").orElse(null);
        try {
            return start(config, kafka, registry, client, true);
        } catch (RuntimeException e) {
            if (client != null) {
                client.close();
            }
            throw e;
        }
    }

    /**
     * Starts the application with the given Kubernetes client, whatever {@code kdiag.kubernetes} says; {@code null}
     * means no cluster. The client stays open when the writer is closed.
     *
     * @see #start(StatusWriterConfig, Map, MeterRegistry)
     */
    public static StatusWriter start(StatusWriterConfig config, Map<String, Object> kafka, MeterRegistry registry,
            KubernetesClient client) {
        return start(config, kafka, registry, client, false);
    }

    private static StatusWriter start(StatusWriterConfig config, Map<String, Object> kafka, MeterRegistry registry,
            KubernetesClient client, boolean ownsClient) {
        Topics topics = Topics.publishing(config.topicPrefix(), kafka);
        AtomicReference<StatusQueries> queries = new AtomicReference<>();
        CrStatusWriter crWriter = client == null ? null
                : new CrStatusWriter(client, config.statusWritesPerSecond(), config.minimumAbnormalTtl(), registry,
                        () -> queries.get().list(null));
        Consumer<AbnormalStatus> onSnapshot = crWriter == null ? snapshot -> {
        } : crWriter::offer;
        Properties props = streamsProperties(config, kafka);
        props.put(WriterDeadLetters.REGISTRY_CONFIG, registry);
        KafkaStreams streams = new KafkaStreams(StatusFoldTopology.build(topics, config.statusFlushInterval(), onSnapshot,
                WriterDeadLetters.from(props)), props);
        KafkaStreams arbiter = null;
        if (config.recoveryBudgets() != null) {
            Properties arbiterProps = arbiterProperties(config, kafka);
            arbiterProps.put(WriterDeadLetters.REGISTRY_CONFIG, registry);
            arbiter = new KafkaStreams(BudgetArbiterTopology.addTo(new Topology(), topics, config.recoveryBudgets(),
                    new BudgetMetrics(registry, config.recoveryBudgets())), arbiterProps);
        }
        Map<String, KafkaStreams> applications = new LinkedHashMap<>();
        applications.put(StreamsHealth.FOLD, streams);
        if (arbiter != null) {
            applications.put("budget arbiter", arbiter);
        }
        StreamsHealth health = new StreamsHealth(applications, config.stallTimeout(), System::nanoTime);
        queries.set(StatusQueries.of(streams));
        List<CompletableFuture<Void>> running = new ArrayList<>();
        CompletableFuture<KafkaStreams.State> stopped = new CompletableFuture<>();
        for (KafkaStreams application : applications.values()) {
            CompletableFuture<Void> up = new CompletableFuture<>();
            running.add(up);
            // either application stopping stops the writer: the process ends and is restarted with both
            application.setStateListener((now, before) -> {
                if (now == KafkaStreams.State.RUNNING) {
                    up.complete(null);
                } else if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
                    up.completeExceptionally(new IllegalStateException("status writer stopped while starting: " + now));
                    stopped.complete(now);
                }
            });
            application.setUncaughtExceptionHandler(e -> {
                LOG.error("status writer stopping: stream thread failed", e);
                return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
            });
        }
        QueryServer http;
        KafkaProducer<byte[], byte[]> decisions = config.approvalRelayKey() == null || client == null ? null : decisionProducer(kafka);
        try {
            Evidence.Reader evidence = new Evidence.Reader(kafka, topics.evidence().name(), EVIDENCE_TIMEOUT);
            http = QueryServer.start(config.bindAddress(), config.httpPort(), queries.get(), health.health(), evidence.topic(),
                    evidence::read, approvalRelay(config, client, topics, decisions));
        } catch (IOException e) {
            if (decisions != null) {
                decisions.close();
            }
            applications.values().forEach(KafkaStreams::close);
            throw new IllegalStateException("cannot serve the query API on port " + config.httpPort() + " ("
                    + StatusWriterConfig.HTTP_PORT.name() + "): " + e.getMessage(), e);
        }
        List<KafkaStreamsMetrics> metrics = new ArrayList<>();
        for (KafkaStreams application : applications.values()) {
            KafkaStreamsMetrics bound = new KafkaStreamsMetrics(application);
            bound.bindTo(registry);
            metrics.add(bound);
        }
        CrStatusWriter.registerMetrics(registry);
        AbnormalReaper.registerMetrics(registry);
        checkEvidenceRetention(kafka, topics, registry);
        AbnormalReaper reaper = client == null ? null : new AbnormalReaper(client, config.abnormalTtl(), config.minimumAbnormalTtl(),
                config.maximumAbnormalsPerNode(), Clock.systemUTC(), registry);
        StatusWriter writer = new StatusWriter(streams, arbiter, health, metrics, stopped, http, decisions, crWriter, reaper,
                ownsClient ? client : null);
        try {
            applications.values().forEach(KafkaStreams::start);
            CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            writer.close();
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            writer.close();
            throw new IllegalStateException("status writer not running after " + START_TIMEOUT.toSeconds() + " s (state "
                    + streams.state() + "); is Kafka at " + kafka.get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG) + " reachable?", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            writer.close();
            throw new IllegalStateException("interrupted while starting the status writer", e);
        } catch (RuntimeException e) {
            writer.close();
            throw e;
        }
        if (crWriter != null) {
            crWriter.start();
            reaper.start();
        }
        LOG.info("status writer running applicationId={} events={} status={} httpPort={} kubernetes={} recoveryBudgets={} approvalRelay={}",
                config.applicationId(), topics.diagnosisEvents().name(), topics.abnormalStatus().name(), http.port(),
                client == null ? "off" : client.getMasterUrl(), config.recoveryBudgets() == null ? "none"
                        : config.recoveryBudgets().budgets().stream().map(b -> b.name()).toList(),
                decisions == null ? "off" : config.approvalRelayKey().keyId());
        return writer;
    }

    /** The relay of approvals over HTTP, or why there is none. */
    private static ApprovalRelay approvalRelay(StatusWriterConfig config, KubernetesClient client, Topics topics,
            KafkaProducer<byte[], byte[]> decisions) {
        if (config.approvalRelayKey() == null) {
            return ApprovalRelay.off("it has no key to sign them with (" + StatusWriterConfig.APPROVAL_RELAY_KEY.name()
                    + " is empty or names no file); use kdiag approve|deny");
        }
        if (client == null) {
            return ApprovalRelay.off("it has no Kubernetes API server to authenticate callers with (" + KubernetesConnection.KUBERNETES.name()
                    + "); use kdiag approve|deny");
        }
        return ApprovalRelay.on(client, config.approvalRelayKey(), topics.approvals(), decisions, Clock.systemUTC());
    }

    /** Writes relayed decisions on their own, outside the fold's transactions: idempotent, acknowledged by every replica. */
    private static KafkaProducer<byte[], byte[]> decisionProducer(Map<String, Object> kafka) {
        Map<String, Object> settings = new HashMap<>(kafka);
        settings.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
        settings.put(ProducerConfig.ACKS_CONFIG, "all");
        settings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        settings.put(ProducerConfig.CLIENT_ID_CONFIG, "kdiag-status-writer-approvals");
        return new KafkaProducer<>(settings, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /**
     * Warns, and says in {@value #EVIDENCE_RETENTION_METRIC}, when the evidence topic would lose values before the events
     * that refer to them ({@link EvidenceRetention}). The writer still starts: the history and the statuses are whole
     * either way, only evidence older than its retention would be missing.
     */
    private static void checkEvidenceRetention(Map<String, Object> kafka, Topics topics, MeterRegistry registry) {
        EvidenceRetention.Check check = EvidenceRetention.check(kafka, topics, RETENTION_CHECK_TIMEOUT);
        if (check.unreadable() != null) {
            LOG.warn("evidence retention not checked topics={},{} reason=\"{}\" (the status writer needs DescribeConfigs on both)",
                    topics.diagnosisEvents().name(), topics.evidence().name(), check.unreadable());
        }
        for (String problem : check.problems()) {
            LOG.warn("evidence retention shorter than the history problem=\"{}\" fix=\"kafka-configs.sh --bootstrap-server ... --alter "
                    + "--entity-type topics --entity-name {} --add-config cleanup.policy=delete,retention.ms=<the events topic's or -1>,"
                    + "retention.bytes=-1\"", problem, topics.evidence().name());
        }
        Gauge.builder(EVIDENCE_RETENTION_METRIC, check, EvidenceRetention.Check::count).strongReference(true)
                .description("Problems the start found in the evidence topic's retention against the events topic's; -1: not checked")
                .register(registry);
    }

    /**
     * The Kafka Streams settings the fold runs with: {@link #commonProperties} at least once. The fold is a pure function
     * of the events that ignores duplicates by seq, and a replayed event publishes again the snapshot it led to
     * ({@link StatusFoldTopology}), so what a crash replays (the events since the last commit) changes no state and
     * publishes only snapshots the fold had published or was about to; exactly-once would make every snapshot wait for
     * a transaction's commit, about 150 ms of every abnormal at low load. Records are sent at once rather than after
     * Kafka Streams' default 100 ms linger, which at least once no commit cuts short.
     */
    public static Properties streamsProperties(StatusWriterConfig config, Map<String, Object> kafka) {
        Properties props = commonProperties(config, kafka);
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
        props.putIfAbsent(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, FOLD_COMMIT_INTERVAL_MS);
        props.putIfAbsent(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 0);
        return props;
    }

    /**
     * The Kafka Streams settings of the recovery budget arbiter: {@link #commonProperties} under its own application id
     * ({@link KafkaNames#budgetArbiterApplicationId(String)}), exactly-once. Its decisions depend on the time they are made
     * at, so a replayed request could be decided otherwise than the answer already sent; exactly-once keeps the ledger
     * and the answers it led to in one transaction, and a grant is never given twice.
     */
    public static Properties arbiterProperties(StatusWriterConfig config, Map<String, Object> kafka) {
        Properties props = commonProperties(config, kafka);
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, KafkaNames.budgetArbiterApplicationId(config.applicationId()));
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        return props;
    }

    /**
     * What both applications of the status writer share: {@code kafka} plus static membership, state directory,
     * transactional state stores and the error handlers, which skip and dead-letter what cannot be read, folded or
     * written instead of failing the stream thread on it at every restart.
     */
    private static Properties commonProperties(StatusWriterConfig config, Map<String, Object> kafka) {
        Properties props = new Properties();
        props.putAll(kafka);
        // static membership (Streams appends each thread's index): a writer restarted under its name takes its tasks
        // back at once instead of after its previous life's session ran out
        props.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), config.instanceId());
        // a writer that does not come back hands its tasks over after this; heartbeats have a thread of their own
        if (!kafka.containsKey(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG)) {
            props.putIfAbsent(StreamsConfig.mainConsumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), SESSION_TIMEOUT_MS);
            props.putIfAbsent(StreamsConfig.mainConsumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), SESSION_TIMEOUT_MS / 4);
        }
        props.put(StreamsConfig.STATE_DIR_CONFIG, config.stateDir().toString());
        // a store keeps what was written since the last commit apart until the commit, so a crash cannot leave
        // uncommitted writes in it: without this, exactly-once Streams finds no checkpoint after a kill -9, takes every
        // task's store for corrupted, deletes it and restores all of it from its changelog, however large; with it,
        // only what was written after RocksDB last flushed its memory to disk is read again. At least once, the store
        // after a crash is that of the last commit, from which the events are replayed
        props.put(StreamsConfig.TRANSACTIONAL_STATE_STORES_CONFIG, true);
        // the restore consumer reads changelogs only while tasks restore; a fetch the broker holds for want of data
        // (500 ms by default) delays every task queued behind it, which added up to seconds over 12 tasks at start
        props.put(StreamsConfig.restoreConsumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), RESTORE_FETCH_WAIT_MS);
        // each task reads one partition, so there is nothing to wait for to keep partitions in time order; with
        // idling enabled Streams also formats a log message for every empty task on every pass of its loop
        props.put(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, StreamsConfig.MAX_TASK_IDLE_MS_DISABLED);
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) config.replicationFactor());
        props.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterDeserializationHandler.class);
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterProcessingHandler.class);
        props.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterProductionHandler.class);
        props.put(WriterDeadLetters.TOPIC_CONFIG, config.topics().deadLetters().name());
        return props;
    }

    /** Completes with the final state when the application stops on its own or is closed. */
    CompletableFuture<KafkaStreams.State> stopped() {
        return stopped;
    }

    /** Port of the query API, useful when {@code kdiag.http-port} was 0. */
    public int httpPort() {
        return http.port();
    }

    /**
     * Stops processing, committing what was folded (up to 30 seconds), then writes the CR statuses still queued (up
     * to 10 seconds) and closes the query API.
     */
    @Override
    public void close() {
        health.closing();
        if (reaper != null) {
            reaper.close();
        }
        metrics.forEach(KafkaStreamsMetrics::close);
        // leaving the group lets the next instance (a restart, a new pod) take the partitions over at once instead
        // of after the session timeout
        if (!streams.close(CloseOptions.groupMembershipOperation(GroupMembershipOperation.LEAVE_GROUP).withTimeout(CLOSE_TIMEOUT))) {
            LOG.warn("status writer did not stop within {} s", CLOSE_TIMEOUT.toSeconds());
        }
        if (arbiter != null && !arbiter.close(CloseOptions.groupMembershipOperation(GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(CLOSE_TIMEOUT))) {
            LOG.warn("budget arbiter did not stop within {} s", CLOSE_TIMEOUT.toSeconds());
        }
        if (crWriter != null) {
            crWriter.close();
        }
        http.close();
        if (decisions != null) {
            decisions.close(CLOSE_TIMEOUT);
        }
        if (ownedClient != null) {
            ownedClient.close();
        }
    }
}
