package io.kdiag.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Instant;

import io.kdiag.schemas.avro.DiagnosisEvent;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;

/**
 * DiagnosisEvent as a later release may write it: with a payload type this release lacks,
 * {@code RecoveryVerified(verified: boolean)}. Its writer publishes {@link #EVENT} to the schemas topic.
 */
public final class LaterVersion {
    /** The later DiagnosisEvent schema. */
    public static final Schema EVENT = laterEvent();
    /** The full name of the payload type only the later version has. */
    public static final String NEW_PAYLOAD = "io.kdiag.schemas.avro.RecoveryVerified";

    private LaterVersion() {
    }

    private static Schema laterEvent() {
        String current = DiagnosisEvent.getClassSchema().toString();
        String union = "\"name\":\"payload\",\"type\":[";
        if (!current.contains(union)) {
            throw new IllegalStateException("DiagnosisEvent has no payload union any more");
        }
        return new Schema.Parser().parse(current.replace(union,
                union + "{\"type\":\"record\",\"name\":\"RecoveryVerified\",\"fields\":[{\"name\":\"verified\",\"type\":\"boolean\"}]},"));
    }

    /** A {@code RecoveryVerified} event of the later version, in single-object encoding. */
    public static byte[] verifiedEvent(String uid, long seq, String node, Instant time, boolean verified) {
        GenericRecord payload = new GenericData.Record(EVENT.getField("payload").schema().getTypes().get(0));
        payload.put("verified", verified);
        GenericRecord event = new GenericData.Record(EVENT);
        event.put("abnormalUid", uid);
        event.put("seq", seq);
        event.put("nodeName", node);
        event.put("time", time.toEpochMilli());
        event.put("payload", payload);
        try {
            ByteBuffer buffer = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), EVENT).encode(event);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
