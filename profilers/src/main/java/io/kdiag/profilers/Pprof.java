package io.kdiag.profilers;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Reads a pprof profile ({@code perftools.profiles.Profile}, github.com/google/pprof/proto/profile.proto), gzipped
 * as Go serves and writes it, or plain. Only the fields a flame graph needs are read: {@code sample_type} (1),
 * {@code sample} (2: {@code location_id} 1, {@code value} 2), {@code location} (4: {@code id} 1, {@code address} 3,
 * {@code line} 4 → {@code function_id} 1), {@code function} (5: {@code id} 1, {@code name} 2) and
 * {@code string_table} (6). The value used is the last sample type's: {@code cpu/nanoseconds} for a CPU profile,
 * {@code inuse_space/bytes} for a heap profile, {@code goroutine/count} for goroutines.
 */
final class Pprof {
    /** Decompressed profiles larger than this are refused; a real one is a few megabytes. */
    static final int MAX_PROFILE_BYTES = 256 * 1024 * 1024;

    private Pprof() {
    }

    /**
     * A parsed profile.
     *
     * @param sampleType the type of the values, e.g. {@code cpu}
     * @param unit their unit, e.g. {@code nanoseconds}
     * @param stacks the stacks, root first, weighted by that value
     */
    record Profile(String sampleType, String unit, StackCounts stacks) {
    }

    /**
     * Parses a profile.
     *
     * @throws IllegalArgumentException if the bytes are not a pprof profile
     */
    static Profile parse(byte[] raw) {
        byte[] bytes = isGzip(raw) ? gunzip(raw) : raw;
        try {
            return read(new ProtoReader(bytes));
        } catch (ProtoReader.MalformedException | IndexOutOfBoundsException | ArithmeticException e) {
            throw new IllegalArgumentException("not a pprof profile: " + e.getMessage(), e);
        }
    }

    private static Profile read(ProtoReader profile) {
        List<long[]> sampleTypes = new ArrayList<>();
        List<Sample> samples = new ArrayList<>();
        Map<Long, Location> locations = new HashMap<>();
        Map<Long, Long> functionNames = new HashMap<>();
        List<String> strings = new ArrayList<>();
        while (profile.next()) {
            switch (profile.field()) {
                case 1 -> sampleTypes.add(valueType(profile.message()));
                case 2 -> samples.add(sample(profile.message()));
                case 4 -> {
                    Location location = location(profile.message());
                    locations.put(location.id, location);
                }
                case 5 -> {
                    long[] function = function(profile.message());
                    functionNames.put(function[0], function[1]);
                }
                case 6 -> strings.add(profile.string());
                default -> profile.skip();
            }
        }
        if (sampleTypes.isEmpty()) {
            throw new IllegalArgumentException("not a pprof profile: it has no sample_type");
        }
        int valueIndex = sampleTypes.size() - 1;
        long[] type = sampleTypes.get(valueIndex);
        StackCounts stacks = new StackCounts();
        for (Sample sample : samples) {
            if (sample.values.length <= valueIndex) {
                continue;
            }
            List<String> leafFirst = new ArrayList<>();
            for (long locationId : sample.locationIds) {
                Location location = locations.get(locationId);
                if (location == null) {
                    leafFirst.add("location#" + locationId);
                } else if (location.functionIds.isEmpty()) {
                    // not symbolized: the address is all there is
                    leafFirst.add("0x" + Long.toHexString(location.address));
                } else {
                    // a location's lines are innermost first: inlined callees before their caller
                    for (long functionId : location.functionIds) {
                        Long nameIndex = functionNames.get(functionId);
                        leafFirst.add(nameIndex == null ? "function#" + functionId : strings.get(Math.toIntExact(nameIndex)));
                    }
                }
            }
            Collections.reverse(leafFirst);
            stacks.add(leafFirst, sample.values[valueIndex]);
        }
        return new Profile(strings.get(Math.toIntExact(type[0])), strings.get(Math.toIntExact(type[1])), stacks);
    }

    private static long[] valueType(ProtoReader m) {
        long[] typeAndUnit = new long[2];
        while (m.next()) {
            switch (m.field()) {
                case 1 -> typeAndUnit[0] = m.varint();
                case 2 -> typeAndUnit[1] = m.varint();
                default -> m.skip();
            }
        }
        return typeAndUnit;
    }

    private static Sample sample(ProtoReader m) {
        LongList locationIds = new LongList();
        LongList values = new LongList();
        while (m.next()) {
            switch (m.field()) {
                case 1 -> m.varints(locationIds::add);
                case 2 -> m.varints(values::add);
                default -> m.skip();
            }
        }
        return new Sample(locationIds.toArray(), values.toArray());
    }

    private static Location location(ProtoReader m) {
        Location location = new Location();
        while (m.next()) {
            switch (m.field()) {
                case 1 -> location.id = m.varint();
                case 3 -> location.address = m.varint();
                case 4 -> {
                    ProtoReader line = m.message();
                    while (line.next()) {
                        if (line.field() == 1) {
                            location.functionIds.add(line.varint());
                        } else {
                            line.skip();
                        }
                    }
                }
                default -> m.skip();
            }
        }
        return location;
    }

    private static long[] function(ProtoReader m) {
        long[] idAndName = new long[2];
        while (m.next()) {
            switch (m.field()) {
                case 1 -> idAndName[0] = m.varint();
                case 2 -> idAndName[1] = m.varint();
                default -> m.skip();
            }
        }
        return idAndName;
    }

    /** Whether the bytes start like a gzip stream. */
    static boolean isGzip(byte[] raw) {
        return raw.length >= 2 && (raw[0] & 0xff) == 0x1f && (raw[1] & 0xff) == 0x8b;
    }

    private static byte[] gunzip(byte[] raw) {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length * 4);
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (out.size() + n > MAX_PROFILE_BYTES) {
                    throw new IllegalArgumentException("the profile is larger than " + MAX_PROFILE_BYTES + " bytes uncompressed");
                }
                out.write(buffer, 0, n);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new IllegalArgumentException("not a pprof profile: bad gzip data: " + e.getMessage(), e);
        }
    }

    private record Sample(long[] locationIds, long[] values) {
    }

    private static final class Location {
        long id;
        long address;
        final List<Long> functionIds = new ArrayList<>();
    }

    /** A growable array of longs, so large profiles do not box every location id. */
    private static final class LongList {
        private long[] values = new long[8];
        private int size;

        void add(long value) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = value;
        }

        long[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }
}
