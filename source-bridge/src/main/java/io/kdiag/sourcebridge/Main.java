package io.kdiag.sourcebridge;

import io.kdiag.common.Launcher;
import io.kdiag.common.config.CommonKeys;

/** Runs the source bridge as a process: {@code source-bridge [--config FILE]}, configured by {@code KDIAG_*} variables. */
public final class Main {
    private Main() {
    }

    /** Runs until the process is stopped or forwarding fails; see {@link Launcher} for exit codes. */
    public static void main(String[] args) {
        Launcher.run("source-bridge", args, CommonKeys.METRICS_PORT, (source, kafka, registry) -> {
            SourceBridge bridge = SourceBridge.start(SourceBridgeConfig.from(source), kafka, registry);
            return Launcher.Running.of(bridge, bridge.stopped());
        });
    }
}
