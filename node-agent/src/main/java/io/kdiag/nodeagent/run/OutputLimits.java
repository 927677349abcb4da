package io.kdiag.nodeagent.run;

/**
 * Size limits of what the agent emits.
 *
 * @param maxContextBytes largest JSON of one processor's context updates before values move to artifacts
 * @param maxEventBytes largest encoded event (the producer's {@code max.request.size} less a margin)
 */
public record OutputLimits(int maxContextBytes, int maxEventBytes) {
}
