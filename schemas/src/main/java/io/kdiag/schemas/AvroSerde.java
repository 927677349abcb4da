package io.kdiag.schemas;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Objects;

import org.apache.avro.Schema;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka serde for one Avro record type in Avro's single-object encoding ({@code C3 01}, the 8-byte schema
 * fingerprint, then the binary body). Writes with the current schema; reads any released version and, given the
 * schemas topic ({@link SchemaTopicStore}), any version published there, later ones included: their new fields are
 * dropped, their new enum symbols read as the enum's default, and their new payload types as {@code UnknownPayload}.
 *
 * <p>This is the default {@link Serde} of the topic catalogue. A registry-backed serde can take its place without
 * changing topics or schemas, since the catalogue only sees {@code Serde<T>}.
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T>, Serializer<T>, Deserializer<T> {
    static {
        // a library user's first Avro use may well be a serde
        AvroTrust.install();
    }

    private static final int HEADER_BYTES = 10;

    private final Class<T> type;
    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;
    private final UnknownBranches<T> unknownBranches;

    private AvroSerde(Class<T> type, Schema schema, SchemaStore published) {
        this.type = type;
        SchemaStore released = ReleasedSchemas.get().store();
        SchemaStore writers = published == null ? released : fingerprint -> {
            Schema writer = released.findByFingerprint(fingerprint);
            return writer != null ? writer : published.findByFingerprint(fingerprint);
        };
        SpecificData model = SpecificData.getForClass(type);
        this.encoder = new BinaryMessageEncoder<>(model, schema);
        this.decoder = new BinaryMessageDecoder<>(model, schema, writers);
        this.unknownBranches = UnknownBranches.of(schema, model, writers);
    }

    /** The serde of a generated record class, reading the versions released in this jar. */
    public static <T extends SpecificRecord> AvroSerde<T> of(Class<T> type) {
        return new AvroSerde<>(type, SpecificData.get().getSchema(type), null);
    }

    /** The serde of a generated record class, reading the versions released in this jar and those {@code published}. */
    public static <T extends SpecificRecord> AvroSerde<T> of(Class<T> type, SchemaStore published) {
        return new AvroSerde<>(type, SpecificData.get().getSchema(type), Objects.requireNonNull(published, "published"));
    }

    /** Encodes a record; the bytes carry the fingerprint of the current schema. */
    public byte[] encode(T value) {
        try {
            ByteBuffer buffer = encoder.encode(value);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot encode " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    /** Decodes bytes written by any released or published version of the schema. */
    public T decode(byte[] bytes) {
        try {
            if (unknownBranches != null && bytes.length >= HEADER_BYTES && bytes[0] == (byte) 0xC3 && bytes[1] == 0x01) {
                long fingerprint = ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
                if (unknownBranches.needed(fingerprint)) {
                    return unknownBranches.read(fingerprint, bytes, HEADER_BYTES);
                }
            }
            return decoder.decode(bytes);
        } catch (MissingSchemaException e) {
            throw new SerializationException("not a released " + type.getSimpleName() + " schema: " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("not a valid " + type.getSimpleName() + " record: " + e.getMessage(), e);
        }
    }

    @Override
    public byte[] serialize(String topic, T data) {
        return data == null ? null : encode(data);
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        return data == null ? null : decode(data);
    }

    @Override
    public Serializer<T> serializer() {
        return this;
    }

    @Override
    public Deserializer<T> deserializer() {
        return this;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        // nothing to configure: the schema comes from the class, the versions it reads from this jar and the store given
    }

    @Override
    public void close() {
        // stateless
    }
}
