package io.kdiag.stageworkers.spi;

import java.nio.file.Path;
import java.time.Instant;

/**
 * A file the agent keeps for a while and serves over HTTP at {@link #path()}, instead of sending it through Kafka:
 * a profile, a flame graph, an output too large for a record.
 *
 * @param id unique id
 * @param fileName name it is served under
 * @param contentType media type
 * @param file where it is stored
 * @param expiresAt when it is deleted
 */
public record Artifact(String id, String fileName, String contentType, Path file, Instant expiresAt) {
    /** The HTTP path the agent serves it at: {@code /artifacts/<id>/<fileName>}. */
    public String path() {
        return "/artifacts/" + id + "/" + fileName;
    }
}
