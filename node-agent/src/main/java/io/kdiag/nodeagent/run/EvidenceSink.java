package io.kdiag.nodeagent.run;

import java.io.IOException;

import io.kdiag.schemas.Evidence;

/** Where context values too large for their event go: the evidence topic in the agent, memory in tests. */
public interface EvidenceSink {
    /**
     * Stores a value and returns once it is durable.
     *
     * @throws IOException if it could not be stored
     */
    Evidence.Reference store(byte[] content, String contentType) throws IOException;
}
