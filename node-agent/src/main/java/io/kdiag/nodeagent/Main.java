package io.kdiag.nodeagent;

import io.kdiag.common.Launcher;
import io.kdiag.common.config.CommonKeys;

/** Runs the node agent as a process: {@code node-agent [--config FILE]}, configured by {@code KDIAG_*} variables. */
public final class Main {
    private Main() {
    }

    /** Runs the agent until the process is stopped or its consumer loop fails; see {@link Launcher} for exit codes. */
    public static void main(String[] args) {
        Launcher.run("node-agent", args, CommonKeys.METRICS_PORT, (source, kafka, registry) -> {
            NodeAgent agent = NodeAgent.start(NodeAgentConfig.from(source), kafka, registry);
            return Launcher.Running.of(agent, agent.stopped());
        });
    }
}
