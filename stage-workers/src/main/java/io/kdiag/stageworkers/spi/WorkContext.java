package io.kdiag.stageworkers.spi;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

import io.kdiag.api.v1.AbnormalSpec;

/**
 * What a worker knows about the abnormal it works on.
 *
 * @param uid the abnormal's uid
 * @param namespace the abnormal's namespace
 * @param name the abnormal's name
 * @param nodeName the node it runs on (this agent's node)
 * @param spec the parsed spec
 * @param statusContext {@code status.context} so far, read-only
 * @param node what the node offers: host paths, pods
 */
public record WorkContext(String uid, String namespace, String name, String nodeName, AbnormalSpec spec,
                          Map<String, Object> statusContext, NodeServices node) {

    /** Takes a read-only snapshot of the status context, so a worker that overran its timeout sees no later change. */
    public WorkContext {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(node, "node");
        statusContext = Collections.unmodifiableMap(new LinkedHashMap<>(statusContext == null ? Map.of() : statusContext));
    }

    /**
     * An input value: {@code spec.context[key]}, else {@code status.context[key]}, else {@code null}. The fallback
     * is the original's, so a user can give an input that a collector would otherwise provide.
     */
    public Object lookup(String key) {
        if (spec.context != null && spec.context.get(key) != null) {
            return spec.context.get(key);
        }
        return statusContext.get(key);
    }

    /** Where host paths are found. */
    public HostPaths host() {
        return node.host();
    }

    /** The agent's own process id, which no worker may signal. */
    public long agentPid() {
        return node.agentPid();
    }
}
