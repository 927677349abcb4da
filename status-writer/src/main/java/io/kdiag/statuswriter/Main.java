package io.kdiag.statuswriter;

import io.kdiag.common.Launcher;
import io.kdiag.common.config.CommonKeys;

/** Runs the status writer as a process: {@code status-writer [--config FILE]}, configured by {@code KDIAG_*} variables. */
public final class Main {
    private Main() {
    }

    /** Runs until the process is stopped or processing fails; see {@link Launcher} for exit codes. */
    public static void main(String[] args) {
        Launcher.run("status-writer", args, CommonKeys.METRICS_PORT, (source, kafka, registry) -> {
            StatusWriter writer = StatusWriter.start(StatusWriterConfig.from(source), kafka, registry);
            return Launcher.Running.of(writer, writer.stopped());
        });
    }
}
