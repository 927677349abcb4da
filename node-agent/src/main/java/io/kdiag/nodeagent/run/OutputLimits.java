package io.kdiag.nodeagent.run;

import java.nio.charset.StandardCharsets;
import java.util.function.ToIntFunction;

/**
 * Size limits of what the agent emits.
 *
 * @param maxContextBytes largest JSON of one processor's context updates before values move to evidence
 * @param maxEventBytes largest encoded event (the producer's {@code max.request.size} less a margin)
 */
public record OutputLimits(int maxContextBytes, int maxEventBytes) {
    /** Whether context updates of this JSON are small enough for the context and, encoded by {@code eventBytes}, their event. */
    boolean fits(String updatesJson, ToIntFunction<String> eventBytes) {
        return updatesJson.getBytes(StandardCharsets.UTF_8).length <= maxContextBytes && eventBytes.applyAsInt(updatesJson) <= maxEventBytes;
    }
}
