package io.kdiag.stageworkers.spi;

import java.io.IOException;

import io.kdiag.schemas.Evidence;

/**
 * Where outputs too large or too binary for an event go: the evidence topic, kept as long as the history and served by
 * the status writer at {@link Evidence#SERVED_AT}{@link Evidence.Reference#path()} (memory in tests).
 */
public interface EvidenceStore {
    /**
     * Stores a value and returns once it is durable.
     *
     * @param contentType the media type it is served with, e.g. {@code text/html; charset=utf-8}
     * @throws IOException if it could not be stored, or a limit refuses it
     */
    Evidence.Reference store(byte[] content, String contentType) throws IOException;
}
