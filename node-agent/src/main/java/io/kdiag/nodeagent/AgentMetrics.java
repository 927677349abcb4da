package io.kdiag.nodeagent;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageOutcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The agent's meters, named here only. They follow the original's per-stage counters ({@code *_sync_success_count},
 * {@code *_command_executor_fail_count}, …) as labelled Prometheus counters: {@code kdiag_agent_stage_sync_total},
 * {@code kdiag_agent_command_executor_total}, {@code kdiag_agent_profiler_total}; plus stage and processor duration
 * histograms and two gauges.
 */
final class AgentMetrics {
    static final String STAGE_SYNC = "kdiag.agent.stage.sync";
    static final String COMMAND_EXECUTOR = "kdiag.agent.command.executor";
    static final String PROFILER = "kdiag.agent.profiler";
    static final String STAGE_DURATION = "kdiag.agent.stage.duration";
    static final String PROCESSOR_DURATION = "kdiag.agent.processor.duration";
    static final String IN_FLIGHT = "kdiag.agent.abnormals.in.flight";
    static final String PARTITION_LAG = "kdiag.agent.partition.lag";

    private final MeterRegistry registry;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong partitionLag = new AtomicLong();

    AgentMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder(IN_FLIGHT, inFlight, AtomicInteger::get)
                .description("Abnormals this agent is running now")
                .register(registry);
        Gauge.builder(PARTITION_LAG, partitionLag, AtomicLong::get)
                .description("Records of this node's partition of the abnormals topic not yet handled (end offset - position)")
                .register(registry);
    }

    /** A stage ended with this outcome: {@code success}, {@code skip} or {@code fail}. */
    void stage(Stage stage, StageOutcome outcome) {
        sync(stage, switch (outcome) {
            case Succeeded -> "success";
            case Skipped -> "skip";
            case Failed -> "fail";
        });
    }

    /** A stage was cut short (interrupted, events not delivered): {@code error}. */
    void stageError(Stage stage) {
        sync(stage, "error");
    }

    private void sync(Stage stage, String result) {
        Counter.builder(STAGE_SYNC).description("Stages run, by result")
                .tag("stage", stage.name()).tag("result", result)
                .register(registry).increment();
    }

    void stageDuration(Stage stage, Duration duration) {
        Timer.builder(STAGE_DURATION).description("Time stages took")
                .tag("stage", stage.name())
                .publishPercentileHistogram()
                .register(registry).record(duration);
    }

    void command(Stage stage, boolean succeeded) {
        Counter.builder(COMMAND_EXECUTOR).description("Commands of spec.commandExecutors, by result")
                .tag("stage", stage.name()).tag("result", succeeded ? "success" : "fail")
                .register(registry).increment();
    }

    void profiler(Stage stage, boolean succeeded) {
        Counter.builder(PROFILER).description("Profilers of spec.profilers, by result")
                .tag("stage", stage.name()).tag("result", succeeded ? "success" : "fail")
                .register(registry).increment();
    }

    void processor(Stage stage, NamespacedName processor, Duration duration) {
        Timer.builder(PROCESSOR_DURATION).description("Time processor calls took")
                .tag("stage", stage.name()).tag("processor", processor.getNamespace() + "/" + processor.getName())
                .publishPercentileHistogram()
                .register(registry).record(duration);
    }

    AtomicInteger inFlight() {
        return inFlight;
    }

    void partitionLag(long lag) {
        partitionLag.set(lag);
    }
}
