package io.kdiag.nodeagent;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageOutcome;
import io.kdiag.stageworkers.CommandResult;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/** The agent's meters; names are declared here only. */
final class AgentMetrics {
    static final String STAGE = "kdiag.agent.stage";
    static final String COMMAND_EXECUTOR = "kdiag.agent.command.executor";
    static final String PROCESSOR_DURATION = "kdiag.agent.processor.duration";
    static final String IN_FLIGHT = "kdiag.agent.abnormals.in.flight";

    private final MeterRegistry registry;
    private final AtomicInteger inFlight = new AtomicInteger();

    AgentMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder(IN_FLIGHT, inFlight, AtomicInteger::get)
                .description("Abnormals this agent is running now")
                .register(registry);
    }

    void stage(Stage stage, StageOutcome outcome) {
        Counter.builder(STAGE).description("Stages finished, by outcome")
                .tag("stage", stage.name()).tag("outcome", outcome.name())
                .register(registry).increment();
    }

    void command(CommandResult.Status status) {
        Counter.builder(COMMAND_EXECUTOR).description("Commands run for spec.commandExecutors, by result")
                .tag("result", status.name().toLowerCase(Locale.ROOT))
                .register(registry).increment();
    }

    void processor(Stage stage, NamespacedName processor, Duration duration) {
        Timer.builder(PROCESSOR_DURATION).description("Time processor calls took")
                .tag("stage", stage.name()).tag("processor", processor.getNamespace() + "/" + processor.getName())
                .register(registry).record(duration);
    }

    AtomicInteger inFlight() {
        return inFlight;
    }
}
