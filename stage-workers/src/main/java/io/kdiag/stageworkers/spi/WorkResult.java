package io.kdiag.stageworkers.spi;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/** The outcome of one worker call: context changes on success, a CamelCase reason and a message on failure. */
public final class WorkResult {
    private final boolean succeeded;
    private final Map<String, Object> contextUpdates;
    private final Set<String> removedKeys;
    private final String reason;
    private final String message;
    /** The updates' JSON, written on first use: the output cap, the event and the context take the same. */
    private OutputJson contextJson;

    private WorkResult(boolean succeeded, Map<String, Object> contextUpdates, Set<String> removedKeys, String reason, String message) {
        this.succeeded = succeeded;
        this.contextUpdates = contextUpdates;
        this.removedKeys = removedKeys;
        this.reason = reason;
        this.message = message;
    }

    /** Success: set these context entries and remove these keys. */
    public static WorkResult succeeded(Map<String, Object> contextUpdates, Set<String> removedKeys) {
        return new WorkResult(true,
                Collections.unmodifiableMap(new LinkedHashMap<>(contextUpdates == null ? Map.of() : contextUpdates)),
                Collections.unmodifiableSet(new LinkedHashSet<>(removedKeys == null ? Set.of() : removedKeys)),
                null, null);
    }

    /** Failure, with a CamelCase {@code reason} and a message for a person. */
    public static WorkResult failed(String reason, String message) {
        return new WorkResult(false, Map.of(), Set.of(), Objects.requireNonNull(reason, "reason"), message);
    }

    /** Whether the worker succeeded. */
    public boolean succeeded() {
        return succeeded;
    }

    /** Context entries to set; empty on failure. */
    public Map<String, Object> contextUpdates() {
        return contextUpdates;
    }

    /** The JSON of {@link #contextUpdates}, written once however often it is asked for. */
    public OutputJson contextJson() {
        if (contextJson == null) {
            contextJson = OutputJson.of(contextUpdates);
        }
        return contextJson;
    }

    /** Context keys to remove; empty on failure. */
    public Set<String> removedKeys() {
        return removedKeys;
    }

    /** Why it failed, in CamelCase; {@code null} on success. */
    public String reason() {
        return reason;
    }

    /** What went wrong, for a person; {@code null} on success. */
    public String message() {
        return message;
    }

    @Override
    public String toString() {
        return succeeded ? "succeeded " + contextUpdates.keySet() + " -" + removedKeys : "failed " + reason + ": " + message;
    }
}
