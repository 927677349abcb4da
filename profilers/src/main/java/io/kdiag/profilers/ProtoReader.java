package io.kdiag.profilers;

import java.nio.charset.StandardCharsets;

/**
 * Reads the protobuf wire format: a message is a sequence of (field number, wire type) tags each followed by a
 * value. Just enough for pprof: varints, length-delimited fields (strings, messages, packed repeated varints), and
 * skipping fixed-width fields it does not use. Every read is bounds-checked, so a corrupt input fails with
 * {@link MalformedException} instead of reading past its end.
 */
final class ProtoReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    private final byte[] buf;
    private final int end;
    private int pos;
    private int tag;

    ProtoReader(byte[] buf) {
        this(buf, 0, buf.length);
    }

    private ProtoReader(byte[] buf, int start, int end) {
        this.buf = buf;
        this.pos = start;
        this.end = end;
    }

    /** Moves to the next field; {@code false} at the end of the message. */
    boolean next() {
        if (pos >= end) {
            return false;
        }
        long t = readVarint();
        if (t >>> 3 == 0 || t >>> 3 > Integer.MAX_VALUE) {
            throw new MalformedException("invalid field tag " + t + " at offset " + pos);
        }
        tag = (int) t;
        return true;
    }

    /** The current field's number. */
    int field() {
        return tag >>> 3;
    }

    /** The current field's wire type. */
    int wireType() {
        return tag & 7;
    }

    /** The current field as a varint. */
    long varint() {
        expect(VARINT);
        return readVarint();
    }

    /** The current length-delimited field as a nested message. */
    ProtoReader message() {
        int length = length();
        ProtoReader nested = new ProtoReader(buf, pos, pos + length);
        pos += length;
        return nested;
    }

    /** The current length-delimited field as UTF-8 text. */
    String string() {
        int length = length();
        String s = new String(buf, pos, length, StandardCharsets.UTF_8);
        pos += length;
        return s;
    }

    /**
     * Calls {@code sink} with each value of a repeated varint field, which writers may encode packed (one
     * length-delimited field) or as one field per value.
     */
    void varints(LongSink sink) {
        if (wireType() == VARINT) {
            sink.accept(readVarint());
            return;
        }
        int length = length();
        int stop = pos + length;
        ProtoReader packed = new ProtoReader(buf, pos, stop);
        while (packed.pos < stop) {
            sink.accept(packed.readVarint());
        }
        pos = stop;
    }

    /** Skips the current field. */
    void skip() {
        switch (wireType()) {
            case VARINT -> readVarint();
            case FIXED64 -> advance(8);
            case LENGTH_DELIMITED -> advance(length());
            case FIXED32 -> advance(4);
            default -> throw new MalformedException("unsupported wire type " + wireType() + " of field " + field());
        }
    }

    private int length() {
        expect(LENGTH_DELIMITED);
        long length = readVarint();
        if (length < 0 || length > end - pos) {
            throw new MalformedException("field " + field() + " of length " + length + " overruns its message");
        }
        return (int) length;
    }

    private void advance(int n) {
        if (n > end - pos) {
            throw new MalformedException("field " + field() + " overruns its message");
        }
        pos += n;
    }

    private void expect(int wireType) {
        if (wireType() != wireType) {
            throw new MalformedException("field " + field() + " has wire type " + wireType() + ", expected " + wireType);
        }
    }

    private long readVarint() {
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) {
                throw new MalformedException("truncated varint");
            }
            byte b = buf[pos++];
            value |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                return value;
            }
        }
        throw new MalformedException("varint longer than 10 bytes");
    }

    /** Receives the values of a repeated varint field. */
    @FunctionalInterface
    interface LongSink {
        void accept(long value);
    }

    /** Input that is not valid protobuf. */
    static final class MalformedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        MalformedException(String message) {
            super(message);
        }
    }
}
