package io.kdiag.nodeagent.processors;

import io.kdiag.stageworkers.spi.Artifact;

/** Where the agent's artifacts (profiles, until they expire) are reachable from outside. */
public final class Artifacts {
    private final String baseUrl;

    /** @param baseUrl {@code http://<advertised address>:<http port>} */
    public Artifacts(String baseUrl) {
        this.baseUrl = baseUrl;
    }

    /** The URL an artifact is served at. */
    public String url(Artifact artifact) {
        return baseUrl + artifact.path();
    }
}
