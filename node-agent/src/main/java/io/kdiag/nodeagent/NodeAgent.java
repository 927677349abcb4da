package io.kdiag.nodeagent;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kdiag.common.kubernetes.KubernetesConnection;
import io.kdiag.schemas.DeadLetters;
import io.kdiag.schemas.Topic;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.ProfilerExpired;
import io.kdiag.stageworkers.FileArtifactStore;
import io.kdiag.stageworkers.WorkerCatalog;
import io.kdiag.stageworkers.WorkerRunner;
import io.kdiag.stageworkers.spi.Artifact;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.PodSource;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent: reads this node's partition of {@code kdiag.abnormals}, runs each abnormal through its stages one
 * at a time, and writes every step to {@code kdiag.diagnosis-events}. An abnormal's offset is committed only after its
 * last event is acknowledged; the journal under {@code kdiag.state-dir} keeps a uid from running twice, even across a
 * crash. Beside the consumer it serves its HTTP port, keeps the policy current, watches the cluster when connected,
 * and deletes expired artifacts (reporting {@code ProfilerExpired} for profiles).
 *
 * <p>Abnormals run one at a time: a node's abnormals are few and their processors act on the same processes, where
 * two recoveries at once could contradict each other; and committing offset N + 1 then always means every abnormal up
 * to N ended, which keeps restart handling to the journal's one unfinished abnormal.
 */
public final class NodeAgent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeAgent.class);
    /**
     * How long a poll waits for records: it returns as soon as one arrives, so this only bounds how often an idle agent
     * wakes up (and reports expired profiles, which can wait that long).
     */
    private static final Duration POLL = Duration.ofSeconds(5);
    /** How long the broker holds a fetch that finds no record (Kafka's default: 500 ms), for the same reason. */
    private static final int IDLE_FETCH_WAIT_MS = 5000;
    /** Pause before a record whose events could not be delivered is read again. */
    private static final Duration RETRY_PAUSE = Duration.ofMillis(500);
    private static final Duration PARTITIONS_WAIT = Duration.ofSeconds(60);
    /** Hard cap of one in-process worker's context output; what exceeds kdiag.max-context-bytes becomes an artifact. */
    private static final int MAX_WORKER_OUTPUT_BYTES = 64 * 1024 * 1024;
    /** Room left in a record for its key, headers and batch framing. */
    private static final int RECORD_OVERHEAD_BYTES = 4096;

    /** An expired profile whose ProfilerExpired is still to be sent; {@code seq} once one was reserved. */
    private record Expiry(String uid, String profilerName, long seq) {
    }

    private final NodeAgentConfig config;
    private final Topics topics;
    private final Journal journal;
    private final KafkaProducer<byte[], byte[]> producer;
    private final WorkerRunner workers;
    private final AgentMetrics metrics;
    private final PolicyHolder policy;
    private final Cluster cluster;
    private final FileArtifactStore artifactStore;
    private final Profilers profilers;
    private final AgentHttpServer http;
    private final StageRunner stages;
    private final ScheduledExecutorService scheduler;
    private final Queue<Expiry> expired = new ConcurrentLinkedQueue<>();
    private final Clock clock = Clock.systemUTC();
    private final int maxRecordBytes;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile TopicPartition partition;
    private Thread loop;
    private volatile boolean closing;
    /** Offset after the last record handled, and the last one committed; both used on the consumer thread only. */
    private long done = -1;
    private long committed = -1;

    private NodeAgent(NodeAgentConfig config, Map<String, Object> kafka, MeterRegistry registry, Cluster cluster) throws IOException {
        this.config = config;
        this.topics = new Topics(config.topicPrefix());
        this.cluster = cluster;
        this.policy = config.policyFile() == null ? PolicyHolder.fixed(config.commandAllowlist()) : PolicyHolder.of(config.policyFile());
        this.journal = Journal.open(config.stateDir());
        Map<String, Object> producerProps = producerProperties(kafka, config.nodeName());
        int maxRequestSize = Integer.parseInt(String.valueOf(producerProps.getOrDefault(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 1_048_576)));
        this.maxRecordBytes = DeadLetters.maxRecordBytes(producerProps);
        this.producer = new KafkaProducer<>(producerProps, new ByteArraySerializer(), new ByteArraySerializer());
        this.workers = new WorkerRunner(config.processorTimeout(), MAX_WORKER_OUTPUT_BYTES);
        this.metrics = new AgentMetrics(registry);
        this.artifactStore = new FileArtifactStore(config.stateDir().resolve("artifacts"), clock);
        NodeServices node = new NodeServices(HostPaths.of(config.hostRoot()), ProcessHandle.current().pid(),
                cluster == null ? PodSource.NONE : cluster, artifactStore);
        Registrations registrations = cluster == null ? Registrations.NONE : cluster;
        BuiltIns builtIns = new BuiltIns(config.builtinNamespace(), WorkerCatalog.builtIns(), workers, policy);
        String token = UUID.randomUUID().toString();
        this.http = AgentHttpServer.start(config.httpPort(), builtIns, registrations, node, config.nodeName(), this::ready, token);
        String advertised = config.advertiseAddress();
        String baseUrl = "http://" + (advertised.contains(":") ? "[" + advertised + "]" : advertised) + ":" + http.port();
        this.profilers = Profilers.fromClassPath();
        Artifacts artifacts = new Artifacts(artifactStore, baseUrl, config.artifactTtl());
        OutputLimits limits = new OutputLimits(config.maxContextBytes(), maxRequestSize - RECORD_OVERHEAD_BYTES);
        RemoteProcessor remote = new RemoteProcessor(URI.create("http://127.0.0.1:" + http.port() + "/"), token);
        this.stages = new StageRunner(config.nodeName(), node, new Processors(builtIns, registrations, remote, policy),
                new StageCommands(policy, limits, metrics), new StageProfilers(policy, profilers, artifacts, metrics),
                new ContextFitter(artifacts, limits), metrics);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kdiag-node-agent-housekeeping");
            t.setDaemon(true);
            return t;
        });
        long reload = config.policyReloadInterval().toMillis();
        scheduler.scheduleWithFixedDelay(policy::reloadIfChanged, reload, reload, TimeUnit.MILLISECONDS);
        long sweep = config.artifactSweepInterval().toMillis();
        scheduler.scheduleWithFixedDelay(this::expireArtifacts, sweep, sweep, TimeUnit.MILLISECONDS);
    }

    /**
     * Starts the agent: connects to the cluster as {@code kdiag.kubernetes} says, ends abnormals a previous run left
     * unfinished, then consumes this node's partition from its committed offset (the earliest when there is none).
     *
     * @param config the agent's configuration
     * @param kafka Kafka client settings ({@code bootstrap.servers}, TLS, SASL, …)
     * @param registry where the agent's meters go
     * @return the running agent, once consuming has begun
     * @throws IllegalStateException if the journal, the policy or the HTTP port cannot be had, or Kafka (or a required
     *         cluster) cannot be reached
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
        } catch (IOException | IllegalArgumentException e) {
            if (cluster != null) {
                cluster.close();
            }
            throw new IllegalStateException("cannot start the node agent: " + e.getMessage(), e);
        }
        try {
            agent.endUnfinished("the agent restarted");
            agent.startConsuming(kafka);
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

    /** The port of the agent's HTTP server. */
    public int httpPort() {
        return http.port();
    }

    /** Ready: consuming its partition and, when connected to a cluster, every informer synced. */
    boolean ready() {
        Thread running = loop;
        return !closing && partition != null && running != null && running.isAlive() && (cluster == null || cluster.synced());
    }

    private void endUnfinished(String cause) throws InterruptedException, EventSink.DeliveryException {
        for (Map.Entry<String, Journal.Entry> e : journal.unfinished().entrySet()) {
            // one that stopped right after Accepted did no work: its record is read again and it runs from the start
            if (!e.getValue().onlyAccepted()) {
                stages.endInterrupted(e.getValue(), events(e.getKey(), e.getValue().lastSeq()), cause);
            }
        }
    }

    /** The event producer's settings: the user's Kafka settings, with what the agent's guarantees need. */
    static Map<String, Object> producerProperties(Map<String, Object> kafka, String nodeName) {
        Map<String, Object> props = new HashMap<>(kafka);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "kdiag-node-agent-" + nodeName);
        // an abnormal waits for acknowledgements two or three times (a recoverer's start, its end): a linger would add
        // to each, and an abnormal's events are sent while earlier ones are in flight, so they are batched anyway
        props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 0);
        return props;
    }

    /** The consumer's settings: the user's Kafka settings, with the node's group, manual commits and committed reads. */
    static Map<String, Object> consumerProperties(Map<String, Object> kafka, String nodeName) {
        Map<String, Object> props = new HashMap<>(kafka);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "kdiag-node-agent-" + nodeName);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "kdiag-node-agent-" + nodeName);
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10);
        props.putIfAbsent(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, IDLE_FETCH_WAIT_MS);
        return props;
    }

    private void startConsuming(Map<String, Object> kafka) {
        Map<String, Object> props = consumerProperties(kafka, config.nodeName());
        consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        String topic = topics.abnormals().name();
        List<PartitionInfo> partitions = List.of();
        long deadline = System.nanoTime() + PARTITIONS_WAIT.toNanos();
        while (partitions.isEmpty() && System.nanoTime() < deadline) {
            partitions = consumer.partitionsFor(topic, PARTITIONS_WAIT);
        }
        if (partitions.isEmpty()) {
            throw new IllegalStateException("topic " + topic + " does not exist");
        }
        partition = new TopicPartition(topic, Topics.partitionFor(config.nodeName(), partitions.size()));
        consumer.assign(List.of(partition));
        // resolves the committed offset now, so consuming has begun when start returns
        long position = consumer.position(partition, PARTITIONS_WAIT);
        LOG.info("node agent consuming node={} partition={} offset={}", config.nodeName(), partition, position);
        loop = new Thread(this::consume, "kdiag-node-agent");
        loop.start();
    }

    private void consume() {
        try {
            while (!closing) {
                reportExpired();
                ConsumerRecords<String, byte[]> records;
                try {
                    records = consumer.poll(POLL);
                } catch (WakeupException e) {
                    if (closing) {
                        throw e;
                    }
                    continue; // woken to report an expired profile without waiting out the poll
                }
                updateLag();
                for (ConsumerRecord<String, byte[]> record : records) {
                    boolean handled = handle(record);
                    updateLag();
                    if (!handled) {
                        // the events could not be delivered; read the record again after a pause
                        consumer.seek(partition, record.offset());
                        TimeUnit.MILLISECONDS.sleep(RETRY_PAUSE.toMillis());
                        break;
                    }
                }
                commitDone();
            }
        } catch (WakeupException | InterruptException | InterruptedException e) {
            // closing
        } catch (RuntimeException e) {
            LOG.error("node agent stopped consuming node={}", config.nodeName(), e);
        } finally {
            // an interrupt meant "stop now"; it must not also break the last commit or the consumer's close
            Thread.interrupted();
            commitLast();
            try {
                consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
            } catch (InterruptException e) {
                // close() stopped waiting for this thread and interrupted it again; the consumer is closed all the same
                LOG.debug("consumer closed while interrupted node={}", config.nodeName());
            }
        }
    }

    private void updateLag() {
        consumer.currentLag(partition).ifPresent(metrics::partitionLag);
    }

    /**
     * Deletes expired artifacts; the profiles among them are reported by the consumer thread, which owns the events,
     * and which is woken from its poll for it.
     */
    private void expireArtifacts() {
        try {
            boolean profileExpired = false;
            for (Artifact artifact : artifactStore.expire()) {
                Optional<Profilers.Owner> owner = profilers.expired(artifact);
                owner.ifPresent(o -> expired.add(new Expiry(o.uid(), o.profilerName(), -1)));
                profileExpired |= owner.isPresent();
            }
            if (profileExpired && consumer != null) {
                consumer.wakeup();
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("expired artifacts not deleted node={} reason={}", config.nodeName(), e.toString());
        }
    }

    /**
     * Sends {@code ProfilerExpired} for profiles that expired, after the end of their abnormal: the seq continues from
     * the journal and is reserved like any other. An undelivered one is sent again at the same seq.
     */
    private void reportExpired() throws InterruptedException {
        for (int n = expired.size(); n > 0; n--) {
            Expiry expiry = expired.poll();
            Journal.Entry entry = journal.entry(expiry.uid()).orElse(null);
            if (entry == null || !entry.finished()) {
                // forgotten by the journal, or (after a crash) ended by endUnfinished first: nothing to continue
                continue;
            }
            long seq = expiry.seq() >= 0 ? expiry.seq() : entry.lastSeq() + 1;
            AbnormalEvents events = events(expiry.uid(), seq);
            try {
                events.emit(new ProfilerExpired(expiry.profilerName()));
                events.finish();
                LOG.info("profile expired uid={} node={} profiler={} seq={}", expiry.uid(), config.nodeName(), expiry.profilerName(), seq);
            } catch (EventSink.DeliveryException e) {
                LOG.warn("profiler expiry not delivered uid={} node={} reason={}", expiry.uid(), config.nodeName(), e.getMessage());
                expired.add(new Expiry(expiry.uid(), expiry.profilerName(), seq));
            }
        }
    }

    /** Handles one record; {@code false} when its events could not be delivered and it must be read again. */
    private boolean handle(ConsumerRecord<String, byte[]> record) throws InterruptedException {
        if (!config.nodeName().equals(record.key())) {
            LOG.debug("abnormal skipped node={} key={} offset={} reason={}", config.nodeName(), record.key(), record.offset(), "OtherNode");
            markDone(record);
            return true;
        }
        AbnormalRequest request;
        try {
            request = topics.abnormals().valueSerde().deserializer().deserialize(record.topic(), record.value());
        } catch (SerializationException e) {
            deadLetter(record, e.getMessage());
            markDone(record);
            return true;
        }
        if (request == null) {
            markDone(record);
            return true;
        }
        String uid = request.getUid();
        Journal.Entry known = journal.entry(uid).orElse(null);
        try {
            if (known != null && known.finished()) {
                LOG.info("abnormal skipped uid={} node={} reason={}", uid, config.nodeName(), "Duplicate");
            } else if (known != null && !known.onlyAccepted()) {
                // an earlier attempt lost its events on the way to Kafka: end it rather than run anything twice
                stages.endInterrupted(known, events(uid, known.lastSeq()), "the agent could not deliver its events");
            } else {
                // new, or an earlier attempt stopped before any work: run it from the start
                metrics.inFlight().incrementAndGet();
                try {
                    stages.run(request, events(uid, 0));
                } catch (RuntimeException e) {
                    // a defect must not make one abnormal a record that stops this node's agent for good
                    LOG.error("abnormal failed on an agent defect uid={} node={}", uid, config.nodeName(), e);
                    Journal.Entry entry = journal.entry(uid).orElse(null);
                    if (entry != null && !entry.finished()) {
                        stages.endInterrupted(entry, events(uid, entry.lastSeq()), "AgentError", "the agent failed (" + e + ")");
                    }
                } finally {
                    metrics.inFlight().decrementAndGet();
                }
            }
        } catch (EventSink.DeliveryException e) {
            LOG.warn("events not delivered uid={} node={}", uid, config.nodeName(), e);
            return false;
        }
        markDone(record);
        // an abnormal ran: commit now rather than at the end of the batch
        commitDone();
        return true;
    }

    private AbnormalEvents events(String uid, long firstSeq) {
        Topic<String, DiagnosisEvent> topic = topics.diagnosisEvents();
        return new AbnormalEvents(uid, config.nodeName(), firstSeq, event -> {
            CompletableFuture<Void> acked = new CompletableFuture<>();
            producer.send(new ProducerRecord<>(topic.name(), config.nodeName().getBytes(StandardCharsets.UTF_8),
                    topic.valueSerde().serializer().serialize(topic.name(), event)), (metadata, error) -> {
                        if (error == null) {
                            acked.complete(null);
                        } else {
                            acked.completeExceptionally(error);
                        }
                    });
            return acked;
        }, journal, clock);
    }

    private void deadLetter(ConsumerRecord<String, byte[]> record, String reason) {
        LOG.warn("abnormal unreadable node={} offset={} reason={}", config.nodeName(), record.offset(), reason);
        ProducerRecord<byte[], byte[]> letter = DeadLetters.of(topics.deadLetters().name(),
                new DeadLetters.Source(record.topic(), record.partition(), record.offset()),
                record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8), record.value(), reason, maxRecordBytes);
        try {
            producer.send(letter).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.error("dead letter not delivered node={} offset={}", config.nodeName(), record.offset(), e);
        }
    }

    /** Notes that everything up to this record is done; {@link #commitDone()} commits it. */
    private void markDone(ConsumerRecord<String, byte[]> record) {
        done = record.offset() + 1;
    }

    /**
     * Commits the offset after the last record done, if it moved, without waiting for the broker: the journal already
     * keeps a finished abnormal from running again, so a commit lost in a crash only makes the agent skip the record
     * as a duplicate. A failed commit is made good by the next one, or by {@link #commitLast()}. Records of other
     * nodes are only marked, and committed once per poll.
     */
    private void commitDone() {
        if (done > committed) {
            long offset = done;
            consumer.commitAsync(Map.of(partition, new OffsetAndMetadata(offset)), (offsets, error) -> {
                if (error != null) {
                    LOG.warn("offset not committed node={} offset={} reason={}", config.nodeName(), offset, error.toString());
                }
            });
            committed = done;
        }
    }

    /** On the way out: commits the offset after the last record done and waits for it, so a restart reads nothing twice. */
    private void commitLast() {
        if (done < 0) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> last = Map.of(partition, new OffsetAndMetadata(done));
        try {
            try {
                consumer.commitSync(last, Duration.ofSeconds(5));
            } catch (WakeupException e) {
                // the wake-up of close() arrived after the last poll; it is spent now
                consumer.commitSync(last, Duration.ofSeconds(5));
            }
        } catch (RuntimeException e) {
            LOG.warn("last offset not committed node={} offset={} reason={}", config.nodeName(), done, e.toString());
        }
    }

    /** Stops consuming (an abnormal in the middle is interrupted and ended at the next start), then closes the clients. */
    @Override
    public void close() {
        closing = true;
        scheduler.shutdownNow();
        if (loop != null) {
            consumer.wakeup();
            try {
                loop.join(TimeUnit.SECONDS.toMillis(2));
                // still busy with an abnormal: interrupt it; the next start ends it with AbnormalFailed
                loop.interrupt();
                loop.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } else if (consumer != null) {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        }
        http.close();
        workers.close();
        profilers.close();
        if (cluster != null) {
            cluster.close();
        }
        producer.close(Duration.ofSeconds(10));
        try {
            journal.close();
        } catch (IOException e) {
            LOG.warn("journal not closed node={}", config.nodeName(), e);
        }
        LOG.info("node agent stopped node={}", config.nodeName());
    }
}
