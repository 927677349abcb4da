package io.kdiag.nodeagent;

import static io.kdiag.nodeagent.Fixtures.ref;
import static io.kdiag.nodeagent.Fixtures.request;
import static io.kdiag.nodeagent.Fixtures.worker;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.stream.LongStream;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.CommandExecutorSpec;
import io.kdiag.api.v1.NamespacedName;
import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.schemas.avro.AbnormalFailed;
import io.kdiag.schemas.avro.CommandFinished;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.ProcessorStarted;
import io.kdiag.schemas.avro.ProfilerFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.stageworkers.CommandExecutor;
import io.kdiag.stageworkers.WorkerCatalog;
import io.kdiag.stageworkers.WorkerRunner;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StageRunnerTest {
    @TempDir
    Path stateDir;
    private final Fixtures.ListSink sink = new Fixtures.ListSink();
    private final List<String> calls = new ArrayList<>();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final WorkerRunner workers = new WorkerRunner(Duration.ofMillis(500), 200);
    private Journal journal;

    @BeforeEach
    void open() throws Exception {
        journal = Journal.open(stateDir);
    }

    @AfterEach
    void close() throws Exception {
        workers.close();
        journal.close();
    }

    private void run(AbnormalSpec spec, StageWorker... catalog) throws Exception {
        run(request("uid-1", "node-a", spec), catalog);
    }

    private void run(io.kdiag.schemas.avro.AbnormalRequest request, StageWorker... catalog) throws Exception {
        StageRunner runner = new StageRunner("node-a", Fixtures.BUILTIN, new WorkerCatalog(List.of(catalog)), workers,
                new CommandExecutor(Set.of("echo", "sh")), Fixtures.node(HostPaths.of(stateDir), 4242), new AgentMetrics(registry));
        runner.run(request, new AbnormalEvents(request.getUid(), "node-a", 0, sink, journal, Clock.systemUTC()));
    }

    private static WorkResult ok(String key, Object value) {
        return WorkResult.succeeded(Map.of(key, value), Set.of());
    }

    private static WorkResult fail(String reason) {
        return WorkResult.failed(reason, reason + " happened");
    }

    private static AbnormalSpec spec(List<NamespacedName> collectors, List<NamespacedName> diagnosers, List<NamespacedName> recoverers) {
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = "node-a";
        spec.assignedInformationCollectors = collectors;
        spec.assignedDiagnosers = diagnosers;
        spec.assignedRecoverers = recoverers;
        return spec;
    }

    private <T> T payload(Class<T> type, int index) {
        return sink.events.stream().map(DiagnosisEvent::getPayload).filter(type::isInstance).map(type::cast).toList().get(index);
    }

    @Test
    void shouldRunProcessorsInTheAssignedOrderAndCarryTheContext() throws Exception {
        List<Object> seenByRecoverer = new ArrayList<>();
        run(spec(List.of(ref("c2"), ref("c1")), List.of(ref("d")), List.of(ref("r"))),
                worker("c1", Stage.InformationCollection, calls, ctx -> ok("fromC1", ctx.statusContext().get("fromC2"))),
                worker("c2", Stage.InformationCollection, calls, ctx -> ok("fromC2", 2)),
                worker("d", Stage.Diagnosis, calls, ctx -> WorkResult.succeeded(Map.of("diagnosis", "found"), Set.of("fromC2"))),
                worker("r", Stage.Recovery, calls, ctx -> {
                    seenByRecoverer.add(new LinkedHashMap<>(ctx.statusContext()));
                    return ok("recovered", true);
                }));

        assertThat(calls).containsExactly("c2", "c1", "d", "r");
        assertThat(sink.described()).containsExactly(
                "Accepted",
                "StageStarted InformationCollection",
                "ProcessorStarted c2", "ProcessorFinished c2 ok",
                "ProcessorStarted c1", "ProcessorFinished c1 ok",
                "StageFinished InformationCollection Succeeded",
                "StageStarted Diagnosis",
                "ProcessorStarted d", "ProcessorFinished d ok",
                "StageFinished Diagnosis Succeeded d",
                "StageStarted Recovery",
                "ProcessorStarted r", "ProcessorFinished r ok",
                "StageFinished Recovery Succeeded r");
        assertThat(sink.events).extracting(DiagnosisEvent::getSeq)
                .containsExactlyElementsOf(LongStream.range(0, sink.events.size()).boxed().toList());
        assertThat(sink.events).allSatisfy(e -> assertThat(e.getAbnormalUid()).isEqualTo("uid-1"));
        assertThat(seenByRecoverer).containsExactly(Map.of("fromC1", 2, "diagnosis", "found"));
        ProcessorFinished diagnosis = payload(ProcessorFinished.class, 2);
        assertThat(ApiSerialization.jsonObject(diagnosis.getContextUpdates())).isEqualTo(Map.of("diagnosis", "found"));
        assertThat(diagnosis.getRemovedContextKeys()).containsExactly("fromC2");
        assertThat(journal.entry("uid-1")).hasValueSatisfying(e -> assertThat(e.finished()).isTrue());
    }

    @Test
    void shouldRunEveryCollectorAndSucceedWithOne() throws Exception {
        run(spec(List.of(ref("bad"), ref("good"), ref("worse")), List.of(), List.of()),
                worker("bad", Stage.InformationCollection, calls, ctx -> fail("Broken")),
                worker("good", Stage.InformationCollection, calls, ctx -> ok("k", 1)),
                worker("worse", Stage.InformationCollection, calls, ctx -> fail("Broken")));

        assertThat(calls).containsExactly("bad", "good", "worse");
        assertThat(sink.described()).contains("StageFinished InformationCollection Succeeded",
                "StageFinished Diagnosis Skipped", "StageFinished Recovery Skipped");
    }

    @Test
    void shouldFailCollectionWhenNoCollectorSucceedsAndRunNothingLater() throws Exception {
        run(spec(List.of(ref("bad"), ref("worse")), List.of(ref("d")), List.of()),
                worker("bad", Stage.InformationCollection, calls, ctx -> fail("Broken")),
                worker("worse", Stage.InformationCollection, calls, ctx -> fail("Gone")),
                worker("d", Stage.Diagnosis, calls, ctx -> ok("k", 1)));

        assertThat(calls).containsExactly("bad", "worse");
        assertThat(sink.described()).last().isEqualTo("StageFinished InformationCollection Failed FailedCollect");
        assertThat(payload(StageFinished.class, 0).getMessage())
                .contains("kube-diagnoser/bad: Broken", "kube-diagnoser/worse: Gone");
        assertThat(registry.counter(AgentMetrics.STAGE, "stage", "InformationCollection", "outcome", "Failed").count()).isEqualTo(1);
    }

    @Test
    void shouldStopDiagnosisAtTheFirstSuccess() throws Exception {
        run(spec(List.of(), List.of(ref("d1"), ref("d2"), ref("d3")), List.of(ref("r1"), ref("r2"))),
                worker("d1", Stage.Diagnosis, calls, ctx -> fail("NotIdentified")),
                worker("d2", Stage.Diagnosis, calls, ctx -> ok("k", 1)),
                worker("d3", Stage.Diagnosis, calls, ctx -> ok("k", 2)),
                worker("r1", Stage.Recovery, calls, ctx -> ok("r", 1)),
                worker("r2", Stage.Recovery, calls, ctx -> ok("r", 2)));

        assertThat(calls).containsExactly("d1", "d2", "r1");
        assertThat(sink.described()).contains("StageFinished InformationCollection Skipped",
                "StageFinished Diagnosis Succeeded d2", "StageFinished Recovery Succeeded r1");
    }

    @Test
    void shouldFailRecoveryWhenNoRecovererSucceeds() throws Exception {
        run(spec(List.of(), List.of(), List.of(ref("r1"), ref("r2"))),
                worker("r1", Stage.Recovery, calls, ctx -> fail("Refused")),
                worker("r2", Stage.Recovery, calls, ctx -> fail("Refused")));

        assertThat(calls).containsExactly("r1", "r2");
        assertThat(sink.described()).last().isEqualTo("StageFinished Recovery Failed FailedRecover");
    }

    @Test
    void shouldSkipStagesBySpecFlagAndEmptyList() throws Exception {
        AbnormalSpec spec = spec(List.of(ref("c")), List.of(ref("d")), null);
        spec.skipInformationCollection = true;
        spec.skipDiagnosis = false;
        spec.commandExecutors = List.of(command("InformationCollector", "echo", "never"), command("Recoverer", "echo", "runs"));

        run(spec, worker("c", Stage.InformationCollection, calls, ctx -> ok("k", 1)),
                worker("d", Stage.Diagnosis, calls, ctx -> ok("k", 1)));

        assertThat(calls).containsExactly("d");
        assertThat(sink.described()).containsExactly(
                "Accepted",
                "StageStarted InformationCollection", "StageFinished InformationCollection Skipped",
                "StageStarted Diagnosis", "ProcessorStarted d", "ProcessorFinished d ok", "StageFinished Diagnosis Succeeded d",
                "StageStarted Recovery", "CommandFinished Recovery echo", "StageFinished Recovery Skipped");
        assertThat(payload(StageFinished.class, 0).getMessage()).isEqualTo("skipInformationCollection is set");
        assertThat(registry.counter(AgentMetrics.STAGE, "stage", "Recovery", "outcome", "Skipped").count()).isEqualTo(1);
    }

    @Test
    void shouldNotFindProcessorsOutsideTheBuiltInsOrInTheWrongStage() throws Exception {
        run(spec(List.of(new NamespacedName("team", "c"), ref("missing"), ref("d")), List.of(), List.of()),
                worker("c", Stage.InformationCollection, calls, ctx -> ok("k", 1)),
                worker("d", Stage.Diagnosis, calls, ctx -> ok("k", 1)));

        assertThat(calls).isEmpty();
        assertThat(sink.described()).contains("ProcessorFinished c ProcessorNotFound", "ProcessorFinished missing ProcessorNotFound",
                "ProcessorFinished d WrongStage", "StageFinished InformationCollection Failed FailedCollect");
        assertThat(payload(ProcessorFinished.class, 0).getMessage()).contains("team/c");
        assertThat(payload(ProcessorFinished.class, 1).getMessage()).contains("kube-diagnoser/missing");
    }

    @Test
    void shouldFailTimeoutsExceptionsAndOversizedOutputWithoutStoppingOthers() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        run(spec(List.of(ref("slow"), ref("throws"), ref("big"), ref("good")), List.of(), List.of()),
                worker("slow", Stage.InformationCollection, calls, ctx -> {
                    try {
                        never.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return ok("k", 1);
                }),
                worker("throws", Stage.InformationCollection, calls, ctx -> {
                    throw new IllegalStateException("boom");
                }),
                worker("big", Stage.InformationCollection, calls, ctx -> ok("k", "x".repeat(1000))),
                worker("good", Stage.InformationCollection, calls, ctx -> ok("k", 1)));

        assertThat(sink.described()).contains("ProcessorFinished slow Timeout", "ProcessorFinished throws Error",
                "ProcessorFinished big OutputTooLarge", "ProcessorFinished good ok", "StageFinished InformationCollection Succeeded");
        assertThat(payload(ProcessorFinished.class, 1).getMessage()).contains("boom");
        assertThat(registry.timer(AgentMetrics.PROCESSOR_DURATION, "stage", "InformationCollection", "processor", "kube-diagnoser/slow")
                .count()).isEqualTo(1);
    }

    @Test
    void shouldRunTheStagesCommandsFirstWithoutChangingTheOutcome() throws Exception {
        AbnormalSpec spec = spec(List.of(ref("c")), List.of(), List.of());
        spec.commandExecutors = List.of(command("InformationCollector", "echo", "hello"),
                command("InformationCollector", "rm", "-rf", "/"), command("Diagnoser", "sh", "-c", "exit 4"));

        run(spec, worker("c", Stage.InformationCollection, calls, ctx -> ok("k", 1)));

        assertThat(sink.described()).startsWith("Accepted", "StageStarted InformationCollection",
                "CommandFinished InformationCollection echo", "CommandFinished InformationCollection rm", "ProcessorStarted c");
        assertThat(sink.described()).contains("CommandFinished Diagnosis sh", "StageFinished Diagnosis Skipped",
                "StageFinished Recovery Skipped");
        assertThat(payload(CommandFinished.class, 0).getStdout()).isEqualTo("hello\n");
        assertThat(payload(CommandFinished.class, 1).getError()).contains("refused by policy", "kdiag.command-allowlist");
        assertThat(payload(CommandFinished.class, 2).getError()).isEqualTo("exit code 4");
        assertThat(registry.counter(AgentMetrics.COMMAND_EXECUTOR, "result", "refused").count()).isEqualTo(1);
        assertThat(registry.counter(AgentMetrics.COMMAND_EXECUTOR, "result", "succeeded").count()).isEqualTo(1);
    }

    @Test
    void shouldSayProfilersAreNotAvailable() throws Exception {
        AbnormalSpec spec = spec(List.of(), List.of(), List.of());
        ProfilerSpec profiler = new ProfilerSpec();
        profiler.name = "heap";
        profiler.type = "Diagnoser";
        profiler.java = new ProfilerSpec.JavaProfilerSpec();
        spec.profilers = List.of(profiler);

        run(spec);

        assertThat(sink.described()).contains("ProfilerFinished Diagnosis heap");
        assertThat(payload(ProfilerFinished.class, 0).getError())
                .isEqualTo("profiler heap: java profiling is not available in this agent yet");
    }

    @Test
    void shouldFailAnInvalidSpecAfterAcceptingIt() throws Exception {
        run(request("uid-1", "node-a", "{\"assignedDiagnosers\": 7"));

        assertThat(sink.described()).containsExactly("Accepted", "AbnormalFailed InvalidSpec");
        assertThat(payload(AbnormalFailed.class, 0).getMessage()).startsWith("the spec is not a valid Abnormal spec");
    }

    @Test
    void shouldNotRunARecovererWhoseStartWasNotAcknowledged() throws Exception {
        sink.failure = e -> e.getPayload() instanceof ProcessorStarted p && p.getStage() == Stage.Recovery
                ? new IllegalStateException("broker gone") : null;

        assertThatThrownBy(() -> run(spec(List.of(), List.of(), List.of(ref("r"))),
                worker("r", Stage.Recovery, calls, ctx -> ok("r", 1))))
                .isInstanceOf(EventSink.DeliveryException.class).hasMessageContaining("broker gone");

        assertThat(calls).isEmpty();
        assertThat(journal.entry("uid-1")).hasValueSatisfying(e -> {
            assertThat(e.finished()).isFalse();
            assertThat(e.runningRecoverer()).isEqualTo("kube-diagnoser/r");
        });
    }

    private static CommandExecutorSpec command(String type, String... command) {
        CommandExecutorSpec spec = new CommandExecutorSpec();
        spec.type = type;
        spec.command = List.of(command);
        spec.timeoutSeconds = 5;
        return spec;
    }
}
