package io.kdiag.nodeagent.processors;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import io.kdiag.stageworkers.spi.Artifact;
import io.kdiag.stageworkers.spi.ArtifactStore;

/** Where the agent's artifacts are reachable from outside, and outputs moved out of the context into artifacts. */
public final class Artifacts {
    /** Content type of a context value stored as an artifact. */
    static final String JSON = "application/json";

    private final ArtifactStore store;
    private final String baseUrl;
    private final Duration ttl;

    /**
     * @param baseUrl {@code http://<advertised address>:<http port>}
     * @param ttl how long an output moved out of the context is served
     */
    public Artifacts(ArtifactStore store, String baseUrl, Duration ttl) {
        this.store = store;
        this.baseUrl = baseUrl;
        this.ttl = ttl;
    }

    /** The URL an artifact is served at. */
    public String url(Artifact artifact) {
        return baseUrl + artifact.path();
    }

    /**
     * Stores the JSON of one context value and returns what the context holds instead:
     * {@code {artifact: <url>, bytes: N, contentType: application/json}}.
     */
    public Map<String, Object> offload(String key, String json) throws IOException {
        byte[] content = json.getBytes(StandardCharsets.UTF_8);
        Artifact artifact = store.put(fileName(key), JSON, content, ttl);
        Map<String, Object> reference = new LinkedHashMap<>();
        reference.put("artifact", url(artifact));
        reference.put("bytes", content.length);
        reference.put("contentType", JSON);
        return reference;
    }

    private static String fileName(String key) {
        String safe = key.replaceAll("[^A-Za-z0-9_.-]", "_").replaceFirst("^\\.+", "_");
        return (safe.isEmpty() ? "value" : safe) + ".json";
    }
}
