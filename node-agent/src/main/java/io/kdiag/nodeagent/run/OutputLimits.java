package io.kdiag.nodeagent.run;

import java.util.function.ToIntFunction;

import io.kdiag.stageworkers.spi.OutputJson;

/**
 * Size limits of what the agent emits.
 *
 * @param maxContextBytes largest JSON of one processor's context updates before values move to evidence
 * @param maxEventBytes largest encoded event (the producer's {@code max.request.size} less a margin)
 */
public record OutputLimits(int maxContextBytes, int maxEventBytes) {
    /** Whether these context updates are small enough for the context and, encoded by {@code eventBytes}, their event. */
    boolean fits(OutputJson updates, ToIntFunction<OutputJson> eventBytes) {
        return updates.utf8Bytes() <= maxContextBytes && eventBytes.applyAsInt(updates) <= maxEventBytes;
    }
}
