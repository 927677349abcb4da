package io.kdiag.schemas;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Builds the record that stands for one that could not be processed. The copy always fits in a record the producer and
 * a default broker accept: an original too large for that is cut to its first {@value #KEPT_PREFIX_BYTES} bytes, and
 * the headers keep its size and SHA-256 so it can still be identified. A dead letter that could not be written would
 * leave its original to be read and refused again, forever, holding up every record behind it.
 */
public final class DeadLetters {
    /** Kafka's default {@code max.request.size}; brokers default {@code message.max.bytes} to a few bytes more. */
    public static final int DEFAULT_MAX_RECORD_BYTES = 1_048_576;
    /** Room for the headers, the record's framing and its batch. */
    static final int HEADROOM_BYTES = 16 * 1024;
    /** How much of an original that does not fit is kept: enough to see what it was. */
    static final int KEPT_PREFIX_BYTES = 64 * 1024;
    /** A record budget that keeps only the start of the original, whatever its size. */
    public static final int PREFIX_ONLY_BYTES = KEPT_PREFIX_BYTES + HEADROOM_BYTES;
    /** A record budget that keeps nothing of the original's value, only its size and hash. */
    public static final int HEADERS_ONLY_BYTES = HEADROOM_BYTES;
    /** A key longer than this is cut as well (keys are node names; a long one is itself the fault). */
    static final int MAX_KEY_BYTES = 1024;
    /** Reasons may quote the record; they are cut to this many characters. */
    static final int MAX_REASON_CHARS = 2000;

    private DeadLetters() {
    }

    /**
     * Where a record came from.
     *
     * @param topic its topic
     * @param partition its partition
     * @param offset its offset
     */
    public record Source(String topic, int partition, long offset) {
    }

    /**
     * The dead letter for a record.
     *
     * @param deadLetterTopic the dead-letter topic's name
     * @param source where the original was read
     * @param key the original key, may be null
     * @param value the original value, may be null
     * @param reason why it was refused
     * @param maxRecordBytes the largest record the writing producer may send ({@link #maxRecordBytes})
     */
    public static ProducerRecord<byte[], byte[]> of(String deadLetterTopic, Source source, byte[] key, byte[] value,
            String reason, int maxRecordBytes) {
        return of(deadLetterTopic, source, key, value, reason, maxRecordBytes, new RecordHeaders());
    }

    /** As {@link #of(String, Source, byte[], byte[], String, int)}, adding to {@code headers} (e.g. the original's own). */
    public static ProducerRecord<byte[], byte[]> of(String deadLetterTopic, Source source, byte[] key, byte[] value,
            String reason, int maxRecordBytes, Headers headers) {
        byte[] originalValue = value == null ? new byte[0] : value;
        headers.add(DeadLetterHeaders.SOURCE_TOPIC, utf8(source.topic()));
        headers.add(DeadLetterHeaders.SOURCE_PARTITION, utf8(String.valueOf(source.partition())));
        headers.add(DeadLetterHeaders.SOURCE_OFFSET, utf8(String.valueOf(source.offset())));
        headers.add(DeadLetterHeaders.REASON, utf8(cut(String.valueOf(reason))));
        headers.add(DeadLetterHeaders.ORIGINAL_VALUE_BYTES, utf8(String.valueOf(originalValue.length)));
        headers.add(DeadLetterHeaders.ORIGINAL_VALUE_SHA256, utf8(sha256(originalValue)));
        byte[] keptKey = key;
        String truncated = null;
        if (key != null && key.length > MAX_KEY_BYTES) {
            keptKey = Arrays.copyOf(key, MAX_KEY_BYTES);
            headers.add(DeadLetterHeaders.ORIGINAL_KEY_BYTES, utf8(String.valueOf(key.length)));
            truncated = "key";
        }
        int headerBytes = 0;
        for (var header : headers) {
            headerBytes += header.key().length() + (header.value() == null ? 0 : header.value().length);
        }
        int room = maxRecordBytes - HEADROOM_BYTES - headerBytes - (keptKey == null ? 0 : keptKey.length);
        byte[] keptValue = value;
        if (value != null && value.length > room) {
            keptValue = Arrays.copyOf(value, Math.max(0, Math.min(KEPT_PREFIX_BYTES, room)));
            truncated = truncated == null ? "value" : "key,value";
        }
        if (truncated != null) {
            headers.add(DeadLetterHeaders.TRUNCATED, utf8(truncated));
        }
        return new ProducerRecord<>(deadLetterTopic, null, keptKey, keptValue, headers);
    }

    /** The largest record a producer with these settings sends: its {@code max.request.size}, at most the default. */
    public static int maxRecordBytes(java.util.Map<String, ?> producerSettings) {
        Object configured = producerSettings.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        int max = configured == null ? DEFAULT_MAX_RECORD_BYTES : Integer.parseInt(configured.toString().trim());
        // a larger producer limit says nothing of the broker's or the dead-letter topic's
        return Math.min(max, DEFAULT_MAX_RECORD_BYTES);
    }

    private static String cut(String reason) {
        return reason.length() <= MAX_REASON_CHARS ? reason : reason.substring(0, MAX_REASON_CHARS) + "…";
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
