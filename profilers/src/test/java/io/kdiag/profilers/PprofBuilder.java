package io.kdiag.profilers;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * Writes a {@code perftools.profiles.Profile} in the protobuf wire format, as Go's runtime/pprof does: the string
 * table starts with "", repeated numbers are packed unless asked otherwise, and the result is gzipped.
 */
final class PprofBuilder {
    private final List<String> strings = new ArrayList<>(List.of(""));
    private final List<long[]> sampleTypes = new ArrayList<>();
    private final Map<String, Long> functions = new LinkedHashMap<>();
    private final List<byte[]> locations = new ArrayList<>();
    private final List<long[][]> samples = new ArrayList<>();
    private boolean packed = true;

    /** Adds a sample type such as {@code cpu}/{@code nanoseconds}. */
    PprofBuilder sampleType(String type, String unit) {
        sampleTypes.add(new long[] {string(type), string(unit)});
        return this;
    }

    /** Adds a location whose lines are these functions, innermost first (more than one when inlined); returns its id. */
    long location(String... functionsInnermostFirst) {
        long id = locations.size() + 1;
        Message location = new Message().varint(1, id).varint(3, 0x401000 + id * 16);
        for (String function : functionsInnermostFirst) {
            location.message(4, new Message().varint(1, function(function)).varint(2, 42));
        }
        locations.add(location.bytes());
        return id;
    }

    /** Adds a location without line information, as in an unsymbolized profile; returns its id. */
    long unsymbolizedLocation(long address) {
        long id = locations.size() + 1;
        locations.add(new Message().varint(1, id).varint(3, address).bytes());
        return id;
    }

    /** Adds a sample: its locations leaf first, and one value per sample type. */
    PprofBuilder sample(long[] locationIdsLeafFirst, long... values) {
        samples.add(new long[][] {locationIdsLeafFirst, values});
        return this;
    }

    /** Writes repeated numbers one field per value instead of packed. */
    PprofBuilder unpacked() {
        packed = false;
        return this;
    }

    /** The profile, not compressed. */
    byte[] build() {
        Message profile = new Message();
        for (long[] type : sampleTypes) {
            profile.message(1, new Message().varint(1, type[0]).varint(2, type[1]));
        }
        for (long[][] sample : samples) {
            profile.message(2, new Message().repeated(1, sample[0], packed).repeated(2, sample[1], packed));
        }
        for (byte[] location : locations) {
            profile.bytes(4, location);
        }
        for (Map.Entry<String, Long> function : functions.entrySet()) {
            profile.message(5, new Message().varint(1, function.getValue()).varint(2, string(function.getKey()))
                    .varint(4, string("main.go")));
        }
        profile.varint(9, 1_700_000_000_000_000_000L).varint(10, 10_000_000_000L);
        // strings last: the ones above may have added to the table
        for (String s : List.copyOf(strings)) {
            profile.bytes(6, s.getBytes(StandardCharsets.UTF_8));
        }
        return profile.bytes();
    }

    /** The profile, gzipped as Go writes it. */
    byte[] gzipped() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
            gzip.write(build());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private long function(String name) {
        return functions.computeIfAbsent(name, n -> (long) functions.size() + 1);
    }

    private long string(String s) {
        int index = strings.indexOf(s);
        if (index >= 0) {
            return index;
        }
        strings.add(s);
        return strings.size() - 1;
    }

    /** A message being written. */
    private static final class Message {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Message varint(int field, long value) {
            tag(field, 0);
            writeVarint(out, value);
            return this;
        }

        Message bytes(int field, byte[] value) {
            tag(field, 2);
            writeVarint(out, value.length);
            out.writeBytes(value);
            return this;
        }

        Message message(int field, Message value) {
            return bytes(field, value.bytes());
        }

        Message repeated(int field, long[] values, boolean packed) {
            if (!packed) {
                for (long value : values) {
                    varint(field, value);
                }
                return this;
            }
            ByteArrayOutputStream packedValues = new ByteArrayOutputStream();
            for (long value : values) {
                writeVarint(packedValues, value);
            }
            return bytes(field, packedValues.toByteArray());
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        private void tag(int field, int wireType) {
            writeVarint(out, (long) field << 3 | wireType);
        }

        private static void writeVarint(ByteArrayOutputStream out, long value) {
            long v = value;
            while ((v & ~0x7fL) != 0) {
                out.write((int) (v & 0x7f | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }
    }
}
