package io.kdiag.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.fabric8.kubernetes.api.model.Event;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.model.FoldState;
import io.kdiag.nodeagent.run.Journal;
import io.kdiag.schemas.AvroSerde;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.ProcessorStarted;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.signing.SigningKey;
import io.kdiag.schemas.signing.VerificationKeys;
import io.kdiag.stageworkers.builtin.ProcessCollector;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.PodSource;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * JMH benchmarks of the hot paths: Avro single-object encode/decode per record type, the fold, rule matching, the
 * signature of a record of {@code kdiag.abnormals} (the gate signs each, the agent verifies each; beside it, the JDK's
 * EdDSA it replaced, as a reference), and the agent's journal per abnormal with and without a recoverer (whose start is
 * forced to the disk), and the process collector over this machine's {@code /proc}.
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
            Path base = Path.of(System.getProperty("kdiag.bench.repo", "."), "bench", "target");
            Files.createDirectories(base);
            dir = Files.createTempDirectory(base, "jmh-journal-");
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
            try (var files = Files.list(dir)) {
                for (Path file : files.toList()) {
                    Files.delete(file);
                }
            }
            Files.delete(dir);
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
