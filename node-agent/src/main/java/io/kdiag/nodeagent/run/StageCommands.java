package io.kdiag.nodeagent.run;

import java.util.List;
import java.util.function.Supplier;

import io.kdiag.api.v1.CommandExecutorSpec;
import io.kdiag.nodeagent.policy.Policy;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.CommandFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.CommandExecutor;
import io.kdiag.stageworkers.CommandResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the {@code spec.commandExecutors} of a stage, each once the policy allows it, and emits a {@code CommandFinished}
 * for each: its output, or {@code Forbidden: <rule>}. A command never changes the phase.
 */
public final class StageCommands {
    private static final Logger LOG = LoggerFactory.getLogger(StageCommands.class);

    private final Supplier<Policy> policy;
    private final OutputLimits limits;
    private final AgentMetrics metrics;

    /** {@code limits}: a command's output is cut so its event fits a record. */
    public StageCommands(Supplier<Policy> policy, OutputLimits limits, AgentMetrics metrics) {
        this.policy = policy;
        this.limits = limits;
        this.metrics = metrics;
    }

    void run(Stage stage, AbnormalRun run) throws InterruptedException {
        AbnormalRequest request = run.request();
        for (CommandExecutorSpec command : AbnormalRun.inStage(run.spec().commandExecutors, c -> c.type, stage)) {
            Policy current = policy.get();
            String refused = current.command(request.getNamespace(), request.getOrigin(), command.command);
            CommandResult result;
            if (refused != null) {
                result = new CommandResult(command.command == null ? List.of() : List.copyOf(command.command), "", "",
                        "Forbidden: " + refused, CommandResult.Status.REFUSED, 0);
            } else {
                // half a record each for stdout and stderr, less room for the rest of the event
                int cap = Math.max(1024, Math.min(current.maxOutputBytes(), (limits.maxEventBytes() - 16 * 1024) / 2));
                result = new CommandExecutor(current.commandAllowlist(), cap).run(command.command,
                        current.timeoutSeconds(command.timeoutSeconds, CommandExecutor.DEFAULT_TIMEOUT_SECONDS));
            }
            metrics.command(stage, result.status());
            CommandFinished event = result.toEvent(stage);
            if (run.events().encodedSize(event) > limits.maxEventBytes()) {
                event.setStdout("[output dropped: the event would exceed the largest record Kafka takes]");
                event.setStderr("");
            }
            run.events().emit(event);
            LOG.info("command finished uid={} node={} stage={} result={}", run.uid(), run.nodeName(), stage, result.status());
        }
    }
}
