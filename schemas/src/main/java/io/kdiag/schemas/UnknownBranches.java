package io.kdiag.schemas;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;

/**
 * Reads records whose writer's union, in a top-level field, has a branch the reader's union lacks: a type a newer
 * version added. Avro's resolution cannot map such a branch, and worse, matches it to the first reader branch of a
 * similar shape (a new payload with a single {@code stage} field would read as a {@code StageStarted}). Where the
 * reader's union has a record named {@value #FALLBACK} ({@code type}, {@code json}), a record of such a writer is
 * decoded with the writer's schema alone, the unknown branch becomes an {@value #FALLBACK} holding the writer's type
 * name and the value as JSON, and the rest is resolved as Avro always does (new fields dropped, missing ones defaulted,
 * unknown enum symbols to the enum's default).
 *
 * <p>Which writers need this is decided once per fingerprint; only their records pay for the detour (decode, rewrite,
 * encode, resolve).
 */
final class UnknownBranches<T> {
    /** The name of the fallback branch a reader's union carries. */
    static final String FALLBACK = "UnknownPayload";

    private final Schema reader;
    private final SpecificData model;
    private final SchemaStore writers;
    /** Per writer fingerprint: how to read its records here, or empty where Avro's resolution does it alone. */
    private final Map<Long, Optional<Bridge>> bridges = new ConcurrentHashMap<>();

    /**
     * A writer whose unknown branches are to be mapped.
     *
     * @param writer its schema
     * @param adapted its schema with, in each union that has a fallback here, the branches unknown here replaced by it
     */
    private record Bridge(Schema writer, Schema adapted) {
    }

    private UnknownBranches(Schema reader, SpecificData model, SchemaStore writers) {
        this.reader = reader;
        this.model = model;
        this.writers = writers;
    }

    /** For a reader schema with at least one top-level union holding {@value #FALLBACK}; {@code null} for any other. */
    static <T> UnknownBranches<T> of(Schema reader, SpecificData model, SchemaStore writers) {
        boolean hasFallback = reader.getFields().stream().anyMatch(f -> fallback(f.schema()) != null);
        return hasFallback ? new UnknownBranches<>(reader, model, writers) : null;
    }

    /** Whether records of this writer need {@link #read}; false too for a fingerprint nobody knows. */
    boolean needed(long fingerprint) {
        Optional<Bridge> known = bridges.get(fingerprint);
        if (known != null) {
            return known.isPresent();
        }
        Schema writer = writers.findByFingerprint(fingerprint);
        if (writer == null) {
            return false;
        }
        Optional<Bridge> bridge = hasUnknownBranch(writer) ? Optional.of(new Bridge(writer, adapt(writer))) : Optional.empty();
        bridges.put(fingerprint, bridge);
        return bridge.isPresent();
    }

    /**
     * Decodes a body written by a writer that {@link #needed} this, mapping the branches unknown here to
     * {@value #FALLBACK}.
     *
     * @throws IOException if the body does not match the writer's schema
     */
    T read(long fingerprint, byte[] bytes, int offset) throws IOException {
        Bridge bridge = bridges.get(fingerprint).orElseThrow();
        Schema writer = bridge.writer();
        GenericRecord record = new GenericDatumReader<GenericRecord>(writer, writer, GenericData.get())
                .read(null, DecoderFactory.get().binaryDecoder(bytes, offset, bytes.length - offset, null));
        GenericRecord rewritten = new GenericData.Record(bridge.adapted());
        for (Schema.Field field : writer.getFields()) {
            Object value = record.get(field.pos());
            Schema fallback = fallbackFor(field);
            if (fallback != null) {
                Schema branch = field.schema().getTypes().get(GenericData.get().resolveUnion(field.schema(), value));
                if (!knownTo(reader.getField(field.name()).schema(), branch)) {
                    value = unknown(branch, value, fallback);
                }
            }
            rewritten.put(field.pos(), value);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length);
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(bridge.adapted(), GenericData.get()).write(rewritten, encoder);
        encoder.flush();
        return new SpecificDatumReader<T>(bridge.adapted(), reader, model)
                .read(null, DecoderFactory.get().binaryDecoder(out.toByteArray(), null));
    }

    private boolean hasUnknownBranch(Schema writer) {
        return writer.getType() == Schema.Type.RECORD && writer.getFields().stream()
                .filter(f -> fallbackFor(f) != null)
                .anyMatch(f -> f.schema().getTypes().stream().anyMatch(b -> !knownTo(reader.getField(f.name()).schema(), b)));
    }

    private Schema adapt(Schema writer) {
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field field : writer.getFields()) {
            Schema fallback = fallbackFor(field);
            Schema type = field.schema();
            if (fallback != null) {
                Schema readerUnion = reader.getField(field.name()).schema();
                List<Schema> branches = new ArrayList<>(type.getTypes().stream().filter(b -> knownTo(readerUnion, b)).toList());
                if (branches.stream().noneMatch(b -> b.getFullName().equals(fallback.getFullName()))) {
                    branches.add(fallback);
                }
                type = Schema.createUnion(branches);
            }
            fields.add(new Schema.Field(field, type));
        }
        return Schema.createRecord(writer.getName(), writer.getDoc(), writer.getNamespace(), false, fields);
    }

    /** The reader's fallback for a writer's union field, when the reader has that field as a union with one. */
    private Schema fallbackFor(Schema.Field writerField) {
        Schema.Field readerField = reader.getField(writerField.name());
        if (readerField == null || writerField.schema().getType() != Schema.Type.UNION) {
            return null;
        }
        return fallback(readerField.schema());
    }

    private static Schema fallback(Schema union) {
        if (union.getType() != Schema.Type.UNION) {
            return null;
        }
        return union.getTypes().stream()
                .filter(b -> b.getType() == Schema.Type.RECORD && b.getName().equals(FALLBACK))
                .findFirst().orElse(null);
    }

    private static boolean knownTo(Schema readerUnion, Schema writerBranch) {
        return readerUnion.getIndexNamed(writerBranch.getFullName()) != null;
    }

    private static GenericRecord unknown(Schema writerBranch, Object value, Schema fallback) {
        GenericRecord unknown = new GenericData.Record(fallback);
        unknown.put("type", writerBranch.getFullName());
        unknown.put("json", GenericData.get().toString(value));
        return unknown;
    }
}
