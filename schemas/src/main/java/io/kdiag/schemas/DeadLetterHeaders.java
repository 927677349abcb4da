package io.kdiag.schemas;

/** Header names on a {@code kdiag.dead-letters} record: where the original came from, why it was refused, what it was. */
public final class DeadLetterHeaders {
    /** Topic of the original record. */
    public static final String SOURCE_TOPIC = "kdiag.dlq.source.topic";
    /** Partition of the original record, as a decimal string. */
    public static final String SOURCE_PARTITION = "kdiag.dlq.source.partition";
    /** Offset of the original record, as a decimal string. */
    public static final String SOURCE_OFFSET = "kdiag.dlq.source.offset";
    /** Why the record was refused, for a person to read. */
    public static final String REASON = "kdiag.dlq.reason";
    /** Size of the original value in bytes, as a decimal string (0 for a null value). */
    public static final String ORIGINAL_VALUE_BYTES = "kdiag.dlq.original.value-bytes";
    /** SHA-256 of the original value, lower-case hex (of no bytes for a null value). */
    public static final String ORIGINAL_VALUE_SHA256 = "kdiag.dlq.original.value-sha256";
    /** Size of the original key in bytes, present only when the key was cut. */
    public static final String ORIGINAL_KEY_BYTES = "kdiag.dlq.original.key-bytes";
    /**
     * Present when the dead letter holds only the start of the original because the whole would not fit in a record:
     * {@code value}, {@code key} or {@code key,value}, naming what was cut.
     */
    public static final String TRUNCATED = "kdiag.dlq.truncated";

    private DeadLetterHeaders() {
    }
}
