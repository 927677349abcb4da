package io.kdiag.stageworkers.spi;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Files kept by the agent for a limited time and served on its HTTP port. */
public interface ArtifactStore {
    /** Stores {@code content} for {@code ttl}. */
    Artifact put(String fileName, String contentType, byte[] content, Duration ttl) throws IOException;

    /** An artifact that has not expired. */
    Optional<Artifact> get(String id);

    /** Deletes every artifact past its expiry and returns them. */
    List<Artifact> expire() throws IOException;
}
