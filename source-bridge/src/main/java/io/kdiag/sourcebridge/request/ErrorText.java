package io.kdiag.sourcebridge.request;

import java.util.List;
import java.util.Map;

/**
 * How refusals and parse errors quote and describe the input they are about, the same way for ingest records, alert
 * payloads and AbnormalSource rules.
 */
public final class ErrorText {
    private ErrorText() {
    }

    /** A value as a message quotes it; {@code (none)} for {@code null}. */
    public static String quoted(String value) {
        return value == null ? "(none)" : "'" + value + "'";
    }

    /** The JSON type of a parsed value, as a message names it ("a string", "an array", ...). */
    public static String typeOf(Object value) {
        if (value instanceof String) {
            return "a string";
        } else if (value instanceof Number) {
            return "a number";
        } else if (value instanceof Boolean) {
            return "a boolean";
        } else if (value instanceof List) {
            return "an array";
        } else if (value instanceof Map) {
            return "an object";
        }
        return "null";
    }

    /**
     * The most specific text of an exception chain, on one line: libraries wrap the useful message ("unexpected end
     * of input at line 1, column 9") in generic ones ("An error has occurred.").
     */
    public static String detail(Throwable error) {
        String message = null;
        Throwable root = error;
        for (Throwable t = error; t != null; t = t.getCause()) {
            root = t;
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                message = t.getMessage();
            }
        }
        if (root.getMessage() == null) {
            message = (message == null ? "" : message + ": ") + root.getClass().getSimpleName();
        }
        // Jackson's location names a source it has redacted anyway; the offset after it is what helps
        return message.replaceAll("\\s*\\R\\s*", " ").replaceAll("\\[Source: [^;\\]]*; ", "[");
    }
}
