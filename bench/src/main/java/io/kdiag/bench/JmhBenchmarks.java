package io.kdiag.bench;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import io.fabric8.kubernetes.api.model.Event;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.model.FoldState;
import io.kdiag.nodeagent.policy.Policy;
import io.kdiag.nodeagent.processors.BuiltIns;
import io.kdiag.nodeagent.processors.Processors;
import io.kdiag.nodeagent.processors.Profilers;
import io.kdiag.nodeagent.processors.Registrations;
import io.kdiag.nodeagent.run.AgentMetrics;
import io.kdiag.nodeagent.run.Approvals;
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
import io.kdiag.schemas.AvroSerde;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.ProcessorStarted;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.signing.SigningKey;
import io.kdiag.schemas.signing.VerificationKeys;
import io.kdiag.stageworkers.RemoteProcessor;
import io.kdiag.stageworkers.WorkerCatalog;
import io.kdiag.stageworkers.WorkerRunner;
import io.kdiag.stageworkers.builtin.ProcessCollector;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.PodSource;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * JMH benchmarks of the hot paths: Avro single-object encode/decode per record type, the fold, rule matching, the
 * signature of a record of {@code kdiag.abnormals} (the gate signs each, the agent verifies each; beside it, the JDK's
 * EdDSA it replaced, as a reference), and the agent's journal per abnormal with and without a recoverer (whose start is
 * forced to the disk), the process collector over this machine's {@code /proc}, and the agent's run of one abnormal
 * (where each processor's output is written as JSON for its checks, its event and the context).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class JmhBenchmarks {
    private final AvroSerde<AbnormalRequest> requestSerde = AvroSerde.of(AbnormalRequest.class);
    private final AvroSerde<DiagnosisEvent> eventSerde = AvroSerde.of(DiagnosisEvent.class);
    private final AvroSerde<AbnormalStatus> statusSerde = AvroSerde.of(AbnormalStatus.class);
    private AbnormalRequest request;
    private DiagnosisEvent accepted;
    private DiagnosisEvent collected;
    private AbnormalStatus status;
    private byte[] requestBytes;
    private byte[] acceptedBytes;
    private byte[] collectedBytes;
    private byte[] statusBytes;
    private List<DiagnosisEvent> sequence;
    private BenchRules rules;
    private Event matchedEvent;
    private Event unmatchedEvent;
    private SigningKey signingKey;
    private VerificationKeys verificationKeys;
    private byte[] nodeKey;
    private Headers signature;
    private KeyPair jdkKeys;
    private byte[] jdkSignature;
    private final ProcessCollector processCollector = new ProcessCollector();
    private final WorkContext thisHost = new WorkContext("bench-uid", "default", "bench", "node-0", new AbnormalSpec(), Map.of(),
            new NodeServices(HostPaths.of(Path.of("/")), 0, PodSource.NONE));

    /** Builds the records once per trial. */
    @Setup
    public void setUp() {
        String uid = "0f8c2b9e-5d1a-4c3b-9e7f-1a2b3c4d5e6f";
        request = SampleRecords.request(uid, "node-17", SampleRecords.Work.NOOP);
        sequence = SampleRecords.typicalEvents(uid, "node-17");
        accepted = sequence.get(0);
        collected = sequence.get(3);
        status = SampleRecords.typicalStatus(uid, "node-17");
        requestBytes = requestSerde.encode(request);
        acceptedBytes = eventSerde.encode(accepted);
        collectedBytes = eventSerde.encode(collected);
        statusBytes = statusSerde.encode(status);
        rules = new BenchRules(RuleMatching.RULES);
        matchedEvent = BenchRules.event(RuleMatching.RULES / 2, "node-17");
        unmatchedEvent = BenchRules.event(RuleMatching.RULES + 1, "node-17");
        signingKey = SigningKey.generate();
        verificationKeys = VerificationKeys.of(List.of(signingKey.publicKey()));
        nodeKey = "node-17".getBytes(StandardCharsets.UTF_8);
        signature = sign();
        try {
            jdkKeys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            jdkSignature = signJdk();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Signs an AbnormalRequest's record as the gate does (Ed25519 over key, value and key id). */
    @Benchmark
    public Headers sign() {
        Headers headers = new RecordHeaders();
        signingKey.sign(nodeKey, requestBytes, headers);
        return headers;
    }

    /** Verifies an AbnormalRequest's record as the agent does before reading it. */
    @Benchmark
    public VerificationKeys.Check verify() {
        return verificationKeys.check(nodeKey, requestBytes, signature);
    }

    /**
     * The reference {@link #sign} is compared with: JDK 17's EdDSA over the same covered bytes, fed as the product fed it
     * before Bouncy Castle (a {@code Signature} per record, each field after its length).
     */
    @Benchmark
    public byte[] signJdk() throws GeneralSecurityException {
        Signature signer = Signature.getInstance("Ed25519");
        signer.initSign(jdkKeys.getPrivate());
        return jdkCovered(signer).sign();
    }

    /** The reference {@link #verify} is compared with: JDK 17's EdDSA, fed as {@link #signJdk}. */
    @Benchmark
    public boolean verifyJdk() throws GeneralSecurityException {
        Signature verifier = Signature.getInstance("Ed25519");
        verifier.initVerify(jdkKeys.getPublic());
        return jdkCovered(verifier).verify(jdkSignature);
    }

    private Signature jdkCovered(Signature signature) throws GeneralSecurityException {
        signature.update("kdiag.abnormals.v1\0".getBytes(StandardCharsets.US_ASCII));
        for (byte[] field : new byte[][] {signingKey.keyId().getBytes(StandardCharsets.UTF_8), nodeKey, requestBytes}) {
            signature.update(ByteBuffer.allocate(4).putInt(field.length).array());
            signature.update(field);
        }
        return signature;
    }

    /** The agent's journal on the disk of the bench's work folder: one per benchmark thread, new for each trial. */
    @State(Scope.Thread)
    public static class JournalState {
        Path dir;
        Journal journal;
        List<Object> withRecoverer;
        List<Object> withoutRecoverer;
        long abnormals;

        /** Opens a journal in a new folder beside the bench's other files (tmpfs would make the force free). */
        @Setup(Level.Trial)
        public void open() throws IOException {
            dir = workFolder("jmh-journal-");
            journal = Journal.open(dir);
            withRecoverer = SampleRecords.typicalEvents("uid", "node-17").stream().map(DiagnosisEvent::getPayload).toList();
            // the same 13 lines, the recoverer's start written as a collector's: nothing is forced
            withoutRecoverer = withRecoverer.stream().map(p -> p instanceof ProcessorStarted started && started.getStage() == Stage.Recovery
                    ? new ProcessorStarted(Stage.InformationCollection, started.getProcessor()) : p).toList();
        }

        /** Closes and deletes the journal. */
        @TearDown(Level.Trial)
        public void close() throws IOException {
            journal.close();
            delete(dir);
        }
    }

    /** A new folder beside the bench's other files, on the disk (tmpfs would make a force free). */
    private static Path workFolder(String prefix) throws IOException {
        Path base = Path.of(System.getProperty("kdiag.bench.repo", "."), "bench", "target");
        Files.createDirectories(base);
        return Files.createTempDirectory(base, prefix);
    }

    /** Deletes a folder and what it holds. */
    private static void delete(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        }
    }

    /** The journal lines of one abnormal that collects, diagnoses and recovers (13 events, one force) and its end. */
    @Benchmark
    public void journalAbnormalWithRecoverer(JournalState state) throws IOException {
        journal(state, state.withRecoverer);
    }

    /** The same lines without a recoverer's start: no force. */
    @Benchmark
    public void journalAbnormalWithoutRecoverer(JournalState state) throws IOException {
        journal(state, state.withoutRecoverer);
    }

    private static void journal(JournalState state, List<Object> payloads) throws IOException {
        String uid = "abnormal-" + state.abnormals++;
        for (int seq = 0; seq < payloads.size(); seq++) {
            state.journal.reserve(uid, seq, payloads.get(seq));
        }
        state.journal.finish(uid);
    }

    /** The built-in process collector over this machine's /proc (the bench's e2e section runs it for every abnormal). */
    @Benchmark
    public WorkResult processCollector() throws IOException {
        return processCollector.run(thisHost);
    }

    /**
     * The agent's run of abnormals that collect and diagnose, with built-ins that return at once: the collector is
     * {@code noop} (the e2e section's no-op collector) or {@code processes} ({@link ProcessesCollector}: the process
     * collector's output for 100 processes, 31 KB of JSON), the diagnoser the no-op one. No recoverer, so no journal
     * line is forced; events go to a sink that encodes each as the producer does and acknowledges it at once.
     */
    @State(Scope.Thread)
    public static class AgentRunState {
        /** What the collector returns. */
        @Param({"noop", "processes"})
        public String output;
        Path dir;
        Journal journal;
        WorkerRunner workers;
        RequestHandler handler;
        String spec;
        long abnormals;

        /** Builds an agent's stage runner as the agent does, with its default limits, in a new folder. */
        @Setup(Level.Trial)
        public void open() throws IOException {
            dir = workFolder("jmh-agent-");
            journal = Journal.open(Files.createDirectory(dir.resolve("journal")));
            List<StageWorker> builtIns = List.of(output.equals("processes") ? new ProcessesCollector(100) : new NoopWorker.Collector(),
                    new NoopWorker.Diagnoser());
            Policy granting = Policy.parse("grants: [{processors: [\"*\"]}]", "the bench's policy");
            Supplier<Policy> policy = () -> granting;
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            AgentMetrics metrics = new AgentMetrics(registry);
            OutputLimits limits = new OutputLimits(524_288, 1_000_000);
            KeptEvidence evidence = new KeptEvidence((content, type) -> {
                throw new IOException("the bench keeps no evidence");
            }, new EvidenceBudget(new EvidenceBudget.Limits(1 << 20, 4 << 20, 16 << 20), dir.resolve("evidence-budget"), Clock.systemUTC()));
            workers = new WorkerRunner(64 * 1024 * 1024);
            Processors processors = new Processors(new BuiltIns(SampleRecords.BUILTIN_NAMESPACE, new WorkerCatalog(builtIns), workers,
                    Registrations.NONE, policy), Registrations.NONE, new RemoteProcessor(URI.create("http://127.0.0.1:1/"), "token", registry),
                    policy);
            RecoverySwitch recoveries = new RecoverySwitch();
            recoveries.readToEnd();
            Parking parking = Parking.open(Files.createDirectory(dir.resolve("parking")));
            StageRunner stages = new StageRunner("node-17", new NodeServices(HostPaths.of(dir), 0, PodSource.NONE), processors,
                    new StageCommands(policy, limits, metrics), new StageProfilers(policy, Profilers.fromClassPath(), evidence, metrics),
                    new ContextFitter(evidence, limits), metrics, recoveries,
                    new Approvals("node-17", Registrations.NONE, policy, Duration.ofHours(1), Clock.systemUTC()), parking,
                    RecoveryBudgetGate.NONE);
            AvroSerde<DiagnosisEvent> events = AvroSerde.of(DiagnosisEvent.class);
            EventSink sink = new EventSink() {
                @Override
                public CompletableFuture<Void> send(DiagnosisEvent event) {
                    events.encode(event);
                    return CompletableFuture.completedFuture(null);
                }

                @Override
                public void sendBatched() {
                }
            };
            handler = new RequestHandler(stages, new EventLog("node-17", sink, journal, Clock.systemUTC()), metrics, parking, List.of());
            spec = "{\"assignedInformationCollectors\":[{\"namespace\":\"" + SampleRecords.BUILTIN_NAMESPACE + "\",\"name\":\""
                    + NoopWorker.COLLECTOR + "\"}],\"assignedDiagnosers\":[{\"namespace\":\"" + SampleRecords.BUILTIN_NAMESPACE
                    + "\",\"name\":\"" + NoopWorker.DIAGNOSER + "\"}],\"skipRecovery\":true}";
        }

        AbnormalRequest next() {
            AbnormalRequest request = SampleRecords.request("abnormal-" + abnormals++, "node-17", SampleRecords.Work.NOOP);
            request.setSpec(spec);
            return request;
        }

        /** Stops the workers, closes the journal and deletes the folder. */
        @TearDown(Level.Trial)
        public void close() throws IOException {
            workers.close();
            journal.close();
            delete(dir);
        }
    }

    /** In the no-op collector's place: returns the process collector's output for a number of processes, at once. */
    static final class ProcessesCollector extends NoopWorker {
        private final Map<String, Object> output;

        /** About 300 bytes of JSON a process, with the collector's shape and types. */
        ProcessesCollector(int processes) {
            super(COLLECTOR, Stage.InformationCollection);
            List<Object> list = new ArrayList<>();
            for (long pid = 1000; pid < 1000 + processes; pid++) {
                Map<String, Object> process = new LinkedHashMap<>();
                process.put("pid", pid);
                process.put("ppid", 1L);
                process.put("tgid", pid);
                process.put("command", List.of("/usr/bin/worker", "--id", Long.toString(pid), "--config=/etc/worker/worker.yaml"));
                process.put("status", "S");
                process.put("createTime", 1_764_756_000_000L + pid);
                process.put("cpuPercent", 0.37);
                process.put("nice", 0L);
                Map<String, Object> memory = new LinkedHashMap<>();
                for (String key : List.of("rss", "vms", "hwm", "data", "stack", "locked", "swap")) {
                    memory.put(key, 10_485_760L + pid);
                }
                process.put("memoryInfo", memory);
                list.add(process);
            }
            output = Map.of("processInformation", list);
        }

        @Override
        public WorkResult run(WorkContext ctx) {
            return WorkResult.succeeded(output, Set.of());
        }
    }

    /** One abnormal through the agent: accepted, collected, diagnosed, recovery skipped, every event acknowledged. */
    @Benchmark
    public boolean agentAbnormal(AgentRunState state) throws InterruptedException {
        return state.handler.handle(state.next());
    }

    /** Encodes an AbnormalRequest. */
    @Benchmark
    public byte[] encodeRequest() {
        return requestSerde.encode(request);
    }

    /** Decodes an AbnormalRequest. */
    @Benchmark
    public AbnormalRequest decodeRequest() {
        return requestSerde.decode(requestBytes);
    }

    /** Encodes the Accepted event (carries the spec). */
    @Benchmark
    public byte[] encodeEventAccepted() {
        return eventSerde.encode(accepted);
    }

    /** Decodes the Accepted event. */
    @Benchmark
    public DiagnosisEvent decodeEventAccepted() {
        return eventSerde.decode(acceptedBytes);
    }

    /** Encodes a ProcessorFinished event with a 24-process context. */
    @Benchmark
    public byte[] encodeEventProcessorFinished() {
        return eventSerde.encode(collected);
    }

    /** Decodes a ProcessorFinished event with a 24-process context. */
    @Benchmark
    public DiagnosisEvent decodeEventProcessorFinished() {
        return eventSerde.decode(collectedBytes);
    }

    /** Encodes a final AbnormalStatus. */
    @Benchmark
    public byte[] encodeStatus() {
        return statusSerde.encode(status);
    }

    /** Decodes a final AbnormalStatus. */
    @Benchmark
    public AbnormalStatus decodeStatus() {
        return statusSerde.decode(statusBytes);
    }

    /** Folds one abnormal's 13 events in order (one operation = one abnormal). */
    @Benchmark
    public AbnormalStatus foldTypicalAbnormal() {
        FoldState state = FoldState.empty();
        for (DiagnosisEvent event : sequence) {
            state.offer(event, FoldState.MAX_PENDING);
        }
        return state.current();
    }

    /** First match among 100 rules for an event matching rule 50. */
    @Benchmark
    public String ruleMatchHit() {
        return rules.firstMatch(matchedEvent);
    }

    /** First match among 100 rules for an event no rule matches (all scanned). */
    @Benchmark
    public String ruleMatchMiss() {
        return rules.firstMatch(unmatchedEvent);
    }
}
