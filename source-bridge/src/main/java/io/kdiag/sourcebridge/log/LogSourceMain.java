package io.kdiag.sourcebridge.log;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kdiag.common.Launcher;
import io.kdiag.common.kubernetes.KubernetesConnection;

/**
 * Runs the log source in the agent pod: {@code log-source [--config FILE]}, configured by {@code KDIAG_*} variables.
 * Its metrics port is {@code kdiag.log.metrics-port}, since it shares the pod's network with the agent; the probes
 * ({@code /healthz}, {@code /readyz}) are answered there too.
 */
public final class LogSourceMain {
    private LogSourceMain() {
    }

    /** Runs until the process is stopped or following fails; see {@link Launcher} for exit codes. */
    public static void main(String[] args) {
        Launcher.run("log-source", args, LogSourceConfig.METRICS_PORT, (source, kafka, registry) -> {
            LogSourceConfig config = LogSourceConfig.from(source);
            KubernetesClient client = KubernetesConnection.connect(config.kubernetes(), "log-source").orElse(null);
            LogSource logSource = LogSource.start(config, kafka, registry, client);
            return Launcher.Running.of(() -> {
                logSource.close();
                if (client != null) {
                    client.close();
                }
            }, logSource.failed(), logSource.health());
        });
    }
}
