package io.kdiag.bench;

import java.util.List;
import java.util.concurrent.TimeUnit;

import io.fabric8.kubernetes.api.model.Event;
import io.kdiag.model.FoldState;
import io.kdiag.schemas.AvroSerde;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** JMH benchmarks of the hot paths: Avro single-object encode/decode per record type, the fold, rule matching. */
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
