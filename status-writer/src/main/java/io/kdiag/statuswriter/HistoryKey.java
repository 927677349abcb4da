package io.kdiag.statuswriter;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * Key of the history store: one entry per event of an abnormal. Encoded as the uid's length, the uid and the seq
 * big-endian, so the store's byte order keeps an abnormal's events together and in seq order and a range from
 * (uid, 0) to (uid, max) is exactly that abnormal's history, whatever characters uids contain.
 */
record HistoryKey(String uid, long seq) {
    static final Serde<HistoryKey> SERDE = Serdes.serdeFrom(HistoryKey::serialize, HistoryKey::deserialize);

    static HistoryKey first(String uid) {
        return new HistoryKey(uid, 0);
    }

    static HistoryKey last(String uid) {
        return new HistoryKey(uid, Long.MAX_VALUE);
    }

    private static byte[] serialize(String topic, HistoryKey key) {
        if (key == null) {
            return null;
        }
        byte[] uid = key.uid.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + uid.length + 8).putInt(uid.length).put(uid).putLong(key.seq).array();
    }

    private static HistoryKey deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        try {
            ByteBuffer buffer = ByteBuffer.wrap(data);
            byte[] uid = new byte[buffer.getInt()];
            buffer.get(uid);
            return new HistoryKey(new String(uid, StandardCharsets.UTF_8), buffer.getLong());
        } catch (BufferUnderflowException | IllegalArgumentException | NegativeArraySizeException e) {
            throw new SerializationException("truncated history key", e);
        }
    }
}
