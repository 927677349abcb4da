package io.kdiag.client;

/** Kafka or the pipeline could not do what the client asked: a topic is missing, a record was not acknowledged, ... */
public class KdiagException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An error with a message for a person and its cause, if any. */
    public KdiagException(String message, Throwable cause) {
        super(message, cause);
    }
}
