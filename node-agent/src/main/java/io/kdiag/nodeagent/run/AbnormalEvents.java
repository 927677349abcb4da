package io.kdiag.nodeagent.run;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.ToIntFunction;

import io.kdiag.model.StatusFold;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.stageworkers.spi.OutputJson;

/**
 * The events of one abnormal: numbers them without gaps, journals each seq before sending it, and marks the abnormal
 * finished once every event is acknowledged. It keeps what it sent, so the status so far is the same fold of the same
 * events that the status writer makes.
 */
final class AbnormalEvents {
    /** Longest failure message kept in an event. */
    private static final int MAX_MESSAGE_CHARS = 4096;

    private final String uid;
    private final String nodeName;
    private final EventSink sink;
    private final Journal journal;
    private final Clock clock;
    private final List<CompletableFuture<Void>> pending = new ArrayList<>();
    private final List<DiagnosisEvent> sent = new ArrayList<>();
    /** The fold of the events of an earlier run of the abnormal (one that was parked); {@code null} for none. */
    private final AbnormalStatus before;
    private long nextSeq;

    AbnormalEvents(String uid, String nodeName, long firstSeq, EventSink sink, Journal journal, Clock clock) {
        this(uid, nodeName, firstSeq, null, sink, journal, clock);
    }

    /** The events after those {@code before} is the fold of, from {@code firstSeq}. */
    AbnormalEvents(String uid, String nodeName, long firstSeq, AbnormalStatus before, EventSink sink, Journal journal, Clock clock) {
        this.before = before;
        this.uid = uid;
        this.nodeName = nodeName;
        this.nextSeq = firstSeq;
        this.sink = sink;
        this.journal = journal;
        this.clock = clock;
    }

    /** A message cut to the length an event keeps. */
    static String truncate(String message) {
        return message.length() <= MAX_MESSAGE_CHARS ? message : message.substring(0, MAX_MESSAGE_CHARS) + " [truncated]";
    }

    String uid() {
        return uid;
    }

    /** Sends the next event; the future completes when Kafka acknowledged it. */
    CompletableFuture<Void> emit(Object payload) {
        long seq = nextSeq++;
        try {
            journal.reserve(uid, seq, payload);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the journal " + journal, e);
        }
        DiagnosisEvent event = event(seq, payload);
        CompletableFuture<Void> acked = sink.send(event);
        pending.add(acked);
        sent.add(event);
        return acked;
    }

    /**
     * The status the events sent so far fold into, as the status writer will fold them; {@code null} before the first.
     * Only a run that began with {@code Accepted} has one.
     */
    AbnormalStatus status() {
        return StatusFold.fold(before, sent);
    }

    /** The seq the next event takes. */
    long nextSeq() {
        return nextSeq;
    }

    /** The encoded size the next event would have with this payload, to keep records under Kafka's limit. */
    int encodedSize(Object payload) {
        try {
            return event(nextSeq, payload).toByteBuffer().remaining();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode an event of abnormal " + uid, e);
        }
    }

    /**
     * The encoded size of the next event with {@code payload}, whose one JSON field holds {@code ""}, once that field
     * holds a JSON text instead: Avro writes a string as its UTF-8 length (a zig-zag varint) and then its bytes, so the
     * rest of the event is encoded once, not again for each text that field is sized with.
     */
    ToIntFunction<OutputJson> encodedSizeWith(Object payload) {
        int withEmpty = encodedSize(payload);
        return json -> withEmpty - 1 + varintBytes(2L * json.utf8Bytes()) + json.utf8Bytes();
    }

    /** The bytes of {@code value} as a varint: 7 bits a byte. */
    private static int varintBytes(long value) {
        return Math.max(1, (Long.SIZE - Long.numberOfLeadingZeros(value) + 6) / 7);
    }

    private DiagnosisEvent event(long seq, Object payload) {
        return DiagnosisEvent.newBuilder()
                .setAbnormalUid(uid)
                .setSeq(seq)
                .setNodeName(nodeName)
                .setTime(clock.instant())
                .setPayload(payload)
                .build();
    }

    /** Waits for every event sent so far, then records the abnormal as finished: it will never run again. */
    void finish() throws InterruptedException, EventSink.DeliveryException {
        flush();
        try {
            journal.finish(uid);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the journal " + journal, e);
        }
    }

    /** Waits until Kafka acknowledged every event sent so far. */
    void flush() throws InterruptedException, EventSink.DeliveryException {
        for (CompletableFuture<Void> acked : pending) {
            awaitAck(acked);
        }
        pending.clear();
    }

    /** Waits until Kafka acknowledged an event this sent. */
    void awaitAck(CompletableFuture<Void> acked) throws InterruptedException, EventSink.DeliveryException {
        if (!acked.isDone()) {
            sink.sendBatched();
        }
        try {
            acked.get();
        } catch (ExecutionException e) {
            throw new EventSink.DeliveryException("cannot deliver an event of abnormal " + uid + ": " + e.getCause().getMessage(), e.getCause());
        }
    }
}
