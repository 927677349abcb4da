package io.kdiag.schemas;

/** Header names on a {@code kdiag.dead-letters} record: where the original came from and why it was refused. */
public final class DeadLetterHeaders {
    /** Topic of the original record. */
    public static final String SOURCE_TOPIC = "kdiag.dlq.source.topic";
    /** Partition of the original record, as a decimal string. */
    public static final String SOURCE_PARTITION = "kdiag.dlq.source.partition";
    /** Offset of the original record, as a decimal string. */
    public static final String SOURCE_OFFSET = "kdiag.dlq.source.offset";
    /** Why the record was refused, for a person to read. */
    public static final String REASON = "kdiag.dlq.reason";

    private DeadLetterHeaders() {
    }
}
