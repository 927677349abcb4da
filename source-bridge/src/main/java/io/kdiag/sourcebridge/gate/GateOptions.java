package io.kdiag.sourcebridge.gate;

import java.time.Duration;

/**
 * How the {@link Gate} de-duplicates and limits.
 *
 * @param repeatInterval how long after forwarding a fault the same fault (same repeat key) is suppressed
 * @param stormPerNodePerMinute automatic abnormals per node and minute
 * @param stormClusterPerMinute automatic abnormals per minute, all nodes together
 * @param stateScope prefix of this writer's keys in the state topic ({@code bridge/}, {@code log/<node>/})
 * @param replicationFactor of the state topic when it is created
 * @param stallTimeout how long the forwarding loop may go without progress while it has work before it counts as stuck
 */
public record GateOptions(Duration repeatInterval, int stormPerNodePerMinute, int stormClusterPerMinute, String stateScope,
        short replicationFactor, Duration stallTimeout) {
}
