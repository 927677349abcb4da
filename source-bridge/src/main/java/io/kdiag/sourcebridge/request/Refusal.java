package io.kdiag.sourcebridge.request;

/**
 * Why an ingest record cannot become an abnormal. The message is for a person (it travels in the dead-letter
 * header); the {@link Kind} is a bounded set, so it can tag metrics.
 */
public final class Refusal extends Exception {
    private static final long serialVersionUID = 1L;
    /** Reasons travel in a header and a log line; a huge one helps nobody. */
    private static final int MAX_MESSAGE = 1_000;

    /** The class of a refusal; {@link #tag()} is its metric tag value. */
    public enum Kind {
        /** Neither Avro single-object encoding nor a JSON object, or empty. */
        UNDECODABLE("undecodable", "Undecodable"),
        /** Avro bytes that do not decode as a released AbnormalRequest schema. */
        BAD_AVRO("bad-avro", "InvalidAvro"),
        /** Text that is not well-formed JSON. */
        BAD_JSON("bad-json", "InvalidJson"),
        /** JSON with missing, unknown or mistyped fields. */
        BAD_SHAPE("bad-shape", "InvalidShape"),
        /** The node to run on is missing or contradictory. */
        NO_NODE("no-node", "NodeNotFound"),
        /** A uid, name, namespace or node name that Kubernetes would not accept. */
        BAD_NAME("bad-name", "InvalidName"),
        /** A spec that does not parse or breaks a rule of the API. */
        BAD_SPEC("bad-spec", "InvalidSpec"),
        /** A spec over the size cap. */
        TOO_LARGE("too-large", "SpecTooLarge"),
        /** A request or record that Kafka refused to take because of its size: no retry can succeed. */
        UNWRITABLE("unwritable", "RecordTooLarge"),
        /** A defect of the bridge itself, caught so that one record never stops the stream. */
        INTERNAL("internal", "InternalError");

        private final String tag;
        private final String reason;

        Kind(String tag, String reason) {
            this.tag = tag;
            this.reason = reason;
        }

        /** The metric tag value. */
        public String tag() {
            return tag;
        }
    }

    private final Kind kind;

    /** A refusal of {@code kind}; {@code message} says why, for a person, cut to 1,000 characters. */
    public Refusal(Kind kind, String message) {
        // no stack trace: refusals are expected traffic, not bugs
        super(cap(message), null, false, false);
        this.kind = kind;
    }

    /** The class of this refusal. */
    public Kind kind() {
        return kind;
    }

    /** The CamelCase reason, as written to an Abnormal's {@code status.reason}. */
    public String reason() {
        return kind.reason;
    }

    private static String cap(String message) {
        return message.length() <= MAX_MESSAGE ? message : message.substring(0, MAX_MESSAGE) + "…";
    }
}
