package io.kdiag.model;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import io.kdiag.schemas.AvroSerde;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The store's value format: a version byte, the snapshot (length-prefixed, length -1 for none), the count of
 * buffered events followed by each one length-prefixed, and the count of event summaries followed by each one
 * length-prefixed. Snapshot and events are in the topics' own single-object encoding, so the store reads every
 * released schema version as the topics do. Version 1, written before the history moved into the fold state, has no
 * summaries and reads as an empty history.
 */
public final class FoldStateSerde implements Serde<FoldState>, Serializer<FoldState>, Deserializer<FoldState> {
    private static final byte VERSION = 2;
    private static final byte VERSION_WITHOUT_HISTORY = 1;
    private static final AvroSerde<AbnormalStatus> STATUS = AvroSerde.of(AbnormalStatus.class);
    private static final AvroSerde<DiagnosisEvent> EVENT = AvroSerde.of(DiagnosisEvent.class);

    @Override
    public byte[] serialize(String topic, FoldState state) {
        if (state == null) {
            return null;
        }
        byte[] status = state.current() == null ? null : STATUS.encode(state.current());
        List<byte[]> events = state.pending().stream().map(EVENT::encode).toList();
        Collection<byte[]> summaries = state.encodedHistory();
        int size = 1 + 4 + (status == null ? 0 : status.length) + 4 + events.stream().mapToInt(e -> 4 + e.length).sum()
                + 4 + summaries.stream().mapToInt(e -> 4 + e.length).sum();
        ByteBuffer buffer = ByteBuffer.allocate(size).put(VERSION);
        if (status == null) {
            buffer.putInt(-1);
        } else {
            buffer.putInt(status.length).put(status);
        }
        buffer.putInt(events.size());
        events.forEach(e -> buffer.putInt(e.length).put(e));
        buffer.putInt(summaries.size());
        summaries.forEach(e -> buffer.putInt(e.length).put(e));
        return buffer.array();
    }

    @Override
    public FoldState deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        try {
            ByteBuffer buffer = ByteBuffer.wrap(data);
            byte version = buffer.get();
            if (version != VERSION && version != VERSION_WITHOUT_HISTORY) {
                throw new SerializationException("unknown fold state version " + version);
            }
            int statusLength = buffer.getInt();
            AbnormalStatus status = statusLength < 0 ? null : STATUS.decode(bytes(buffer, statusLength));
            int count = buffer.getInt();
            List<DiagnosisEvent> pending = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                pending.add(EVENT.decode(bytes(buffer, buffer.getInt())));
            }
            int summaries = version == VERSION_WITHOUT_HISTORY ? 0 : buffer.getInt();
            List<byte[]> history = new ArrayList<>(summaries);
            for (int i = 0; i < summaries; i++) {
                history.add(bytes(buffer, buffer.getInt()));
            }
            return new FoldState(status, pending, history);
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new SerializationException("truncated fold state", e);
        }
    }

    private static byte[] bytes(ByteBuffer buffer, int length) {
        byte[] bytes = new byte[length];
        buffer.get(bytes);
        return bytes;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        // the format is fixed; nothing to configure
    }

    @Override
    public void close() {
        // stateless
    }

    @Override
    public Serializer<FoldState> serializer() {
        return this;
    }

    @Override
    public Deserializer<FoldState> deserializer() {
        return this;
    }
}
