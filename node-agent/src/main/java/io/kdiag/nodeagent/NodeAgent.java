package io.kdiag.nodeagent;

import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kdiag.common.health.Health;
import io.kdiag.common.health.LoopProgress;
import io.kdiag.common.kubernetes.KubernetesConnection;
import io.kdiag.nodeagent.cluster.Cluster;
import io.kdiag.nodeagent.http.AgentHttpServer;
import io.kdiag.nodeagent.kafka.AgentProducer;
import io.kdiag.nodeagent.kafka.ApproverKeys;
import io.kdiag.nodeagent.kafka.PartitionConsumer;
import io.kdiag.nodeagent.kafka.RecoveryBudgetClient;
import io.kdiag.nodeagent.kafka.RecoveryControlFollower;
import io.kdiag.nodeagent.kafka.RecordVerifier;
import io.kdiag.nodeagent.policy.Policy;
import io.kdiag.nodeagent.policy.PolicyHolder;
import io.kdiag.nodeagent.processors.BuiltIns;
import io.kdiag.nodeagent.processors.Processors;
import io.kdiag.nodeagent.processors.Profilers;
import io.kdiag.nodeagent.processors.Registrations;
import io.kdiag.nodeagent.run.AgentMetrics;
import io.kdiag.nodeagent.run.Approvals;
import io.kdiag.nodeagent.run.BudgetWaits;
import io.kdiag.nodeagent.run.ContextFitter;
import io.kdiag.nodeagent.run.EventLog;
import io.kdiag.nodeagent.run.EventSink;
import io.kdiag.nodeagent.run.EvidenceBudget;
import io.kdiag.nodeagent.run.Journal;
import io.kdiag.nodeagent.run.KeptEvidence;
import io.kdiag.nodeagent.run.OutputLimits;
import io.kdiag.nodeagent.run.Parking;
import io.kdiag.nodeagent.run.RecoveryBudgetGate;
import io.kdiag.nodeagent.run.RecoverySwitch;
import io.kdiag.nodeagent.run.RequestHandler;
import io.kdiag.nodeagent.run.StageCommands;
import io.kdiag.nodeagent.run.StageProfilers;
import io.kdiag.nodeagent.run.StageRunner;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.RemoteProcessor;
import io.kdiag.stageworkers.WorkerCatalog;
import io.kdiag.stageworkers.WorkerRunner;
import io.kdiag.stageworkers.builtin.PodCollector;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.PodSource;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent: reads this node's partition of {@code kdiag.abnormals}, runs each abnormal through its stages one
 * at a time, and writes every step to {@code kdiag.diagnosis-events}. An abnormal's offset is committed only after its
 * last event is acknowledged; the journal under {@code kdiag.state-dir} keeps a uid from running twice, even across a
 * crash. Beside the consumer it serves its HTTP port, keeps the policy current and watches the cluster when
 * connected. What is too large for an event (context values, profiles) goes to the evidence topic first; the agent
 * keeps none of it on the node. This class wires those parts, starts them and stops them.
 *
 * <p>An abnormal whose recovery waits for a person's approval is parked ({@link Parking}) rather than held: the agent
 * takes the next one meanwhile, and the decision (or the deadline) lets it go on or ends it.
 *
 * <p>Abnormals run one at a time: a node's abnormals are few and their processors act on the same processes, where
 * two recoveries at once could contradict each other; and committing offset N + 1 then always means every abnormal up
 * to N ended, which keeps restart handling to the journal's one unfinished abnormal.
 */
public final class NodeAgent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeAgent.class);
    /** Hard cap of one in-process worker's context output; what exceeds kdiag.max-context-bytes becomes evidence. */
    private static final int MAX_WORKER_OUTPUT_BYTES = 64 * 1024 * 1024;
    /**
     * How long the start waits for the recovery-control topic to be read to its end before consuming abnormals. Past it the
     * agent consumes anyway and refuses recoveries until the topic has been read (deny by default).
     */
    private static final Duration RECOVERY_CONTROL_WAIT = Duration.ofSeconds(30);

    private final NodeAgentConfig config;
    private final Topics topics;
    private final Journal journal;
    private final AgentProducer producer;
    private final WorkerRunner workers;
    private final AgentMetrics metrics;
    private final PolicyHolder policy;
    private final RecordVerifier verifier;
    private final ApproverKeys approvers;
    private final Approvals approvals;
    private final Cluster cluster;
    private final Profilers profilers;
    private final AgentHttpServer http;
    private final RequestHandler requests;
    private final ScheduledExecutorService scheduler;
    private final RecoverySwitch recoveries = new RecoverySwitch();
    private volatile RecoveryControlFollower recoveryControl;
    /** {@code null} without a budget file. */
    private final RecoveryBudgetClient budgets;
    private final LoopProgress progress;
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private volatile PartitionConsumer consumer;
    private volatile boolean closing;

    private NodeAgent(NodeAgentConfig config, Map<String, Object> kafka, MeterRegistry registry, Cluster cluster) throws IOException {
        this.config = config;
        this.topics = Topics.publishing(config.topicPrefix(), kafka);
        this.cluster = cluster;
        WorkerCatalog catalog = WorkerCatalog.builtIns();
        this.policy = config.policyFile() == null
                ? PolicyHolder.fixed(Policy.defaults(readOnlyBuiltIns(config.builtinNamespace(), catalog)))
                : PolicyHolder.of(config.policyFile());
        this.verifier = RecordVerifier.load(config.verificationKeys(), config.logSourceVerificationKeys());
        this.approvers = ApproverKeys.load(config.approverKeys(), config.approvalRelayKeys());
        this.journal = Journal.open(config.stateDir());
        Parking parking = Parking.open(config.stateDir());
        this.progress = new LoopProgress("the agent's consumer loop", config.stallTimeout());
        this.producer = AgentProducer.create(kafka, config.nodeName(), topics, progress::progressed);
        this.workers = new WorkerRunner(MAX_WORKER_OUTPUT_BYTES);
        this.metrics = new AgentMetrics(registry);
        metrics.recoveriesPaused(recoveries);
        metrics.parked(parking);
        Clock clock = Clock.systemUTC();
        NodeServices node = new NodeServices(HostPaths.of(config.hostRoot()), ProcessHandle.current().pid(),
                cluster == null ? PodSource.NONE : cluster);
        Registrations registrations = cluster == null ? Registrations.NONE : cluster;
        BuiltIns builtIns = new BuiltIns(config.builtinNamespace(), catalog, workers, registrations, policy);
        String token = UUID.randomUUID().toString();
        Health health = new Health(List.of(this::consumerStopped, progress), List.of(this::notReady));
        this.http = AgentHttpServer.start(config.bindAddress(), config.httpPort(), builtIns, registrations, node, config.nodeName(),
                health, token);
        this.profilers = Profilers.fromClassPath();
        KeptEvidence evidence = new KeptEvidence(producer,
                new EvidenceBudget(config.evidenceLimits(), config.stateDir().resolve("evidence-budget"), clock));
        OutputLimits limits = new OutputLimits(config.maxContextBytes(), producer.maxEventBytes());
        RemoteProcessor remote = new RemoteProcessor(URI.create("http://127.0.0.1:" + http.port() + "/"), token, registry);
        this.approvals = new Approvals(config.nodeName(), registrations, policy, config.approvalTimeout(), clock);
        this.budgets = config.recoveryBudgets() == null ? null
                : RecoveryBudgetClient.start(kafka, config.nodeName(), topics, config.recoveryBudgets(), config.recoveryBudgetTimeout());
        StageRunner stages = new StageRunner(config.nodeName(), node, new Processors(builtIns, registrations, remote, policy),
                new StageCommands(policy, limits, metrics), new StageProfilers(policy, profilers, evidence, metrics),
                new ContextFitter(evidence, limits), metrics, recoveries, approvals, parking,
                budgets == null ? RecoveryBudgetGate.NONE : budgets);
        EventLog events = new EventLog(config.nodeName(), producer, journal, clock);
        BudgetWaits budgetWaits = new BudgetWaits(budgets == null ? RecoveryBudgetGate.NONE : budgets);
        this.requests = new RequestHandler(stages, events, metrics, parking, List.of(approvals, budgetWaits));
        if (budgets != null) {
            budgetWaits.askAgain(parking.all());
        }
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kdiag-node-agent-housekeeping");
            t.setDaemon(true);
            return t;
        });
        long reload = config.policyReloadInterval().toMillis();
        scheduler.scheduleWithFixedDelay(policy::reloadIfChanged, reload, reload, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(verifier::reload, reload, reload, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(approvers::reload, reload, reload, TimeUnit.MILLISECONDS);
    }

    /**
     * Starts the agent: connects to the cluster as {@code kdiag.kubernetes} says, ends abnormals a previous run left
     * unfinished, then consumes this node's partition from its committed offset (the earliest when there is none).
     *
     * @param config the agent's configuration
     * @param kafka Kafka client settings ({@code bootstrap.servers}, TLS, SASL, …)
     * @param registry where the agent's meters go
     * @return the running agent, once consuming has begun
     * @throws IllegalStateException if the journal, the policy, the verification keys or the HTTP port cannot be had, or
     *         Kafka (or a required cluster) cannot be reached
     */
    public static NodeAgent start(NodeAgentConfig config, Map<String, Object> kafka, MeterRegistry registry) {
        return start(config, kafka, registry, KubernetesConnection.connect(config.kubernetes(), "node-agent")
                .map(client -> Cluster.owning(client, config.nodeName())).orElse(null));
    }

    /** Starts the agent with the cluster seen through {@code client}, which stays the caller's to close. */
    public static NodeAgent start(NodeAgentConfig config, Map<String, Object> kafka, MeterRegistry registry, KubernetesClient client) {
        return start(config, kafka, registry, Cluster.with(client, config.nodeName()));
    }

    private static NodeAgent start(NodeAgentConfig config, Map<String, Object> kafka, MeterRegistry registry, Cluster cluster) {
        NodeAgent agent;
        try {
            agent = new NodeAgent(config, kafka, registry, cluster);
        } catch (IOException | IllegalArgumentException | IllegalStateException e) {
            if (cluster != null) {
                cluster.close();
            }
            throw new IllegalStateException("cannot start the node agent: " + e.getMessage(), e);
        }
        try {
            agent.requests.endUnfinished("the agent restarted");
            agent.recoveryControl = RecoveryControlFollower.start(kafka, config.nodeName(), agent.topics, agent.recoveries);
            agent.awaitRecoveryControl();
            agent.consumer = PartitionConsumer.start(kafka, config.nodeName(), agent.topics, agent.verifier, agent.approvers,
                    agent.approvals, agent.requests, agent.producer, agent.metrics, agent.progress);
            // a loop that ends on its own ends the agent, so that the process exits and is restarted
            agent.consumer.stopped().whenComplete((ok, error) -> {
                if (error != null) {
                    agent.stopped.completeExceptionally(error);
                }
            });
            LOG.info("node agent started node={} http-port={}", config.nodeName(), agent.http.port());
            return agent;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            agent.close();
            throw new IllegalStateException("interrupted while starting", e);
        } catch (RuntimeException | EventSink.DeliveryException e) {
            agent.close();
            throw new IllegalStateException("cannot start the node agent: " + e.getMessage(), e);
        }
    }

    private void awaitRecoveryControl() throws InterruptedException {
        long deadline = System.nanoTime() + RECOVERY_CONTROL_WAIT.toNanos();
        while (!recoveries.hasReadToEnd() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        if (!recoveries.hasReadToEnd()) {
            LOG.warn("recovery control not read within {} s node={}: recoveries are refused until it is", RECOVERY_CONTROL_WAIT.toSeconds(),
                    config.nodeName());
        }
    }

    /**
     * {@code namespace/name} of every built-in that collects or diagnoses: what the default policy grants. Only the
     * workers kdiag ships count; a plugin's worker found on the class path may do anything whatever its stage, so only a
     * policy file grants it.
     */
    static List<String> readOnlyBuiltIns(String namespace, WorkerCatalog catalog) {
        return Stream.of(Stage.InformationCollection, Stage.Diagnosis).flatMap(stage -> catalog.ofStage(stage).stream())
                .filter(worker -> worker.getClass().getPackageName().equals(PodCollector.class.getPackageName()))
                .map(worker -> namespace + "/" + worker.name()).toList();
    }

    /** The port of the agent's HTTP server. */
    public int httpPort() {
        return http.port();
    }

    /** Completes exceptionally when the consumer loop stopped on its own; never normally before {@link #close()}. */
    public CompletableFuture<Void> stopped() {
        return stopped;
    }

    /** Alive only while the consumer loop runs (a loop that makes no progress is {@link #progress}'s to tell). */
    private Optional<String> consumerStopped() {
        PartitionConsumer running = consumer;
        return running != null && running.stopped().isCompletedExceptionally()
                ? Optional.of("the agent's consumer loop stopped on an error") : Optional.empty();
    }

    /** Ready: consuming its partition and, when connected to a cluster, every informer synced. */
    private Optional<String> notReady() {
        PartitionConsumer running = consumer;
        if (closing || running == null || !running.consuming()) {
            return Optional.of("not consuming its partition");
        }
        return cluster == null || cluster.synced() ? Optional.empty() : Optional.of("the cluster's informers are not synced yet");
    }

    /** Stops consuming (an abnormal in the middle is interrupted and ended at the next start), then closes the clients. */
    @Override
    public void close() {
        closing = true;
        scheduler.shutdownNow();
        if (consumer != null) {
            consumer.close();
        }
        if (recoveryControl != null) {
            recoveryControl.close();
        }
        if (budgets != null) {
            budgets.close();
        }
        http.close();
        workers.close();
        profilers.close();
        if (cluster != null) {
            cluster.close();
        }
        producer.close();
        try {
            journal.close();
        } catch (IOException e) {
            LOG.warn("journal not closed node={}", config.nodeName(), e);
        }
        LOG.info("node agent stopped node={}", config.nodeName());
    }
}
