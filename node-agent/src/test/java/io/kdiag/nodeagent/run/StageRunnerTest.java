package io.kdiag.nodeagent.run;

import static io.kdiag.nodeagent.Fixtures.ref;
import static io.kdiag.nodeagent.Fixtures.request;
import static io.kdiag.nodeagent.Fixtures.withTimeout;
import static io.kdiag.nodeagent.Fixtures.worker;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import java.util.stream.LongStream;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.CommandExecutorSpec;
import io.kdiag.api.v1.NamespacedName;
import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.common.metrics.KubeDiagMetric;
import io.kdiag.common.metrics.KubeDiagMetrics;
import io.kdiag.nodeagent.Fixtures;
import io.kdiag.nodeagent.policy.Policy;
import io.kdiag.nodeagent.processors.Registrations;
import io.kdiag.schemas.Evidence;
import io.kdiag.schemas.avro.AbnormalFailed;
import io.kdiag.schemas.avro.CommandFinished;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.ProcessorStarted;
import io.kdiag.schemas.avro.ProfilerFinished;
import io.kdiag.schemas.avro.RecoveryControl;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.stageworkers.RemoteProcessor;
import io.kdiag.stageworkers.WorkerRunner;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StageRunnerTest {
    /** The built-in whose targets the policy checks, and its input. */
    private static final String SIGNAL_RECOVERER = "signal-recoverer";
    private static final String SIGNAL_RECOVERY = "signalRecovery";
    @TempDir
    Path stateDir;
    private final RunFixtures.ListSink sink = new RunFixtures.ListSink();
    private final List<String> calls = new ArrayList<>();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final WorkerRunner workers = new WorkerRunner(64 * 1024 * 1024);
    private Journal journal;
    private Supplier<Policy> policy = Fixtures::grantingEverything;
    private Registrations registrations = Registrations.NONE;
    private NodeServices node;
    private URI ownServer = URI.create("http://127.0.0.1:1/");
    private OutputLimits limits = new OutputLimits(1024, 100_000);
    private final RunFixtures.MemoryEvidence evidence = new RunFixtures.MemoryEvidence();
    private EvidenceBudget.Limits evidenceLimits = RunFixtures.LIMITS;
    private RecoverySwitch recoveries = RunFixtures.running();

    @BeforeEach
    void open() throws Exception {
        journal = Journal.open(stateDir);
        node = RunFixtures.node(HostPaths.of(stateDir), 4242);
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
        StageRunner runner = RunFixtures.stageRunner(node, List.of(catalog), workers, policy, registrations, ownServer, limits, evidence,
                RunFixtures.budget(evidenceLimits), registry, recoveries);
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
    void shouldForceTheRecoverersStartToTheDiskBeforeItRunsAndNothingElse() throws Exception {
        journal.close();
        List<ForceRecordingChannel> opened = new ArrayList<>();
        journal = Journal.open(stateDir, file -> ForceRecordingChannel.open(file, opened));
        List<String> forcedWhenTheRecovererRan = new ArrayList<>();

        run(spec(List.of(ref("c")), List.of(ref("d")), List.of(ref("r"))),
                worker("c", Stage.InformationCollection, calls, ctx -> ok("c", 1)),
                worker("d", Stage.Diagnosis, calls, ctx -> ok("d", 1)),
                worker("r", Stage.Recovery, calls, ctx -> {
                    forcedWhenTheRecovererRan.addAll(opened.get(0).forced);
                    return ok("r", 1);
                }));

        assertThat(forcedWhenTheRecovererRan).containsExactly("S uid-1 10 ProcessorStarted kube-diagnoser%2Fr");
        assertThat(opened.get(0).forced).as("one force per abnormal, for its recoverer").hasSize(1);
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
        assertThat(registry.counter(AgentMetrics.STAGE_SYNC, "stage", "InformationCollection", "result", "fail").count()).isEqualTo(1);
        // KubeDiag counted a failed stage as a sync success too
        KubeDiagMetrics kubediag = KubeDiagMetrics.of(registry);
        assertThat(kubediag.get(KubeDiagMetric.INFORMATION_MANAGER_SYNC_FAIL_COUNT)).isEqualTo(1);
        assertThat(kubediag.get(KubeDiagMetric.INFORMATION_MANAGER_SYNC_SUCCESS_COUNT)).isEqualTo(1);
        assertThat(kubediag.get(KubeDiagMetric.DIAGNOSER_CHAIN_SYNC_SUCCESS_COUNT)).isZero();
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
    void shouldRefuseRecoveryWhilePausedAndSayWhoPausedAndWhen() throws Exception {
        recoveries.apply(new RecoveryControl(true, "User:alice", Instant.parse("2026-12-03T07:00:00Z"), "node drain"));

        run(spec(List.of(ref("c")), List.of(ref("d")), List.of(ref("r"))),
                worker("c", Stage.InformationCollection, calls, ctx -> ok("c", 1)),
                worker("d", Stage.Diagnosis, calls, ctx -> ok("d", 1)),
                worker("r", Stage.Recovery, calls, ctx -> ok("r", 1)));

        assertThat(calls).containsExactly("c", "d");
        assertThat(sink.described()).endsWith("StageFinished Diagnosis Succeeded d", "StageStarted Recovery",
                "StageFinished Recovery Failed RecoveryPaused");
        assertThat(payload(StageFinished.class, 2).getMessage())
                .contains("paused cluster-wide by User:alice at 2026-12-03T07:00:00Z (node drain)");
    }

    @Test
    void shouldRefuseRecoveryUntilTheControlTopicIsReadButNotARecoveryWithNothingToRun() throws Exception {
        recoveries = new RecoverySwitch();
        AbnormalSpec skipped = spec(List.of(), List.of(), List.of(ref("r")));
        skipped.skipRecovery = true;
        run(skipped, worker("r", Stage.Recovery, calls, ctx -> ok("r", 1)));
        run(spec(List.of(), List.of(), List.of()), worker("r", Stage.Recovery, calls, ctx -> ok("r", 1)));
        run(spec(List.of(), List.of(), List.of(ref("r"))), worker("r", Stage.Recovery, calls, ctx -> ok("r", 1)));

        assertThat(calls).isEmpty();
        assertThat(sink.described()).filteredOn(e -> e.startsWith("StageFinished Recovery"))
                .containsExactly("StageFinished Recovery Skipped", "StageFinished Recovery Skipped", "StageFinished Recovery Failed RecoveryPaused");
        assertThat(payload(StageFinished.class, 8).getMessage()).contains("not yet read the recovery-control topic");
    }

    @Test
    void shouldRefuseTheRecoveryStagesCommandsWhilePaused() throws Exception {
        recoveries.apply(new RecoveryControl(true, "alice", Instant.EPOCH, null));
        CommandExecutorSpec command = new CommandExecutorSpec();
        command.command = List.of("echo", "restarting");
        command.type = "Recoverer";
        AbnormalSpec spec = spec(List.of(), List.of(), List.of());
        spec.commandExecutors = List.of(command);

        run(spec);

        assertThat(sink.described()).noneMatch(e -> e.startsWith("CommandFinished")).last().isEqualTo("StageFinished Recovery Failed RecoveryPaused");
    }

    @Test
    void shouldNotStartTheNextRecovererOnceAPauseArrivesDuringRecovery() throws Exception {
        run(spec(List.of(), List.of(), List.of(ref("r1"), ref("r2"))),
                worker("r1", Stage.Recovery, calls, ctx -> {
                    recoveries.apply(new RecoveryControl(true, "alice", Instant.EPOCH, null));
                    return fail("Refused");
                }),
                worker("r2", Stage.Recovery, calls, ctx -> ok("r2", 1)));

        assertThat(calls).containsExactly("r1");
        assertThat(sink.described()).last().isEqualTo("StageFinished Recovery Failed RecoveryPaused");
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
        assertThat(registry.counter(AgentMetrics.STAGE_SYNC, "stage", "Recovery", "result", "skip").count()).isEqualTo(1);
        KubeDiagMetrics kubediag = KubeDiagMetrics.of(registry);
        assertThat(kubediag.get(KubeDiagMetric.INFORMATION_MANAGER_SYNC_SKIP_COUNT)).isEqualTo(1);
        assertThat(kubediag.get(KubeDiagMetric.DIAGNOSER_CHAIN_SYNC_SKIP_COUNT)).isZero();
        assertThat(kubediag.get(KubeDiagMetric.RECOVERER_CHAIN_SYNC_SKIP_COUNT)).isEqualTo(1);
        assertThat(kubediag.get(KubeDiagMetric.RECOVERER_CHAIN_SYNC_SUCCESS_COUNT)).isEqualTo(1);
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
    void shouldKeepLargeContextValuesAsEvidenceAndStillHandLaterProcessorsTheWholeValue() throws Exception {
        String big = "x".repeat(3000);
        List<Object> seen = new ArrayList<>();
        run(spec(List.of(ref("c")), List.of(ref("d")), List.of()),
                worker("c", Stage.InformationCollection, calls, ctx -> WorkResult.succeeded(Map.of("big", big, "small", 1), Set.of())),
                worker("d", Stage.Diagnosis, calls, ctx -> {
                    seen.add(ctx.statusContext().get("big"));
                    return ok("found", true);
                }));

        Map<String, Object> updates = ApiSerialization.jsonObject(payload(ProcessorFinished.class, 0).getContextUpdates());
        assertThat(updates.get("small")).isEqualTo(1);
        Evidence.Reference reference = Evidence.Reference.fromContextValue(updates.get("big")).orElseThrow();
        assertThat(reference.bytes()).isEqualTo(3002);
        assertThat(reference.contentType()).isEqualTo("application/json");
        assertThat(evidence.values).singleElement().extracting(v -> new String(v, StandardCharsets.UTF_8)).isEqualTo("\"" + big + "\"");
        // the event refers to the evidence; the diagnoser after the collector works on the data itself
        assertThat(seen).containsExactly(big);
    }

    @Test
    void shouldKeepOutputOfExactlyTheContextLimitInItsEventAndMoveOneByteMoreToEvidence() throws Exception {
        // {"big":"é…"}: 8 + 2 (é) + 1012 + 2 = 1024 bytes, the limit, in 1023 characters
        String atLimit = "é" + "x".repeat(1012);
        run(spec(List.of(ref("c"), ref("e")), List.of(), List.of()),
                worker("c", Stage.InformationCollection, calls, ctx -> ok("big", atLimit)),
                worker("e", Stage.InformationCollection, calls, ctx -> ok("big", atLimit + "x")));

        assertThat(payload(ProcessorFinished.class, 0).getContextUpdates()).isEqualTo("{\"big\":\"" + atLimit + "\"}");
        Map<String, Object> moved = ApiSerialization.jsonObject(payload(ProcessorFinished.class, 1).getContextUpdates());
        assertThat(Evidence.Reference.fromContextValue(moved.get("big")).orElseThrow().bytes()).isEqualTo(1025 - 8);
        assertThat(evidence.values).hasSize(1);
    }

    @Test
    void shouldHandLaterProcessorsTheOutputAsItsJsonReadsBack() throws Exception {
        List<Map<String, Object>> seen = new ArrayList<>();
        run(spec(List.of(ref("c")), List.of(ref("d")), List.of()),
                worker("c", Stage.InformationCollection, calls, ctx -> WorkResult.succeeded(Map.of(
                        "plain", Map.of("pid", 42L, "pids", List.of(1L, 5_000_000_000L)),
                        "written", Map.of("ratio", 0.5f, "at", Instant.parse("2026-12-03T10:00:00Z"))), Set.of())),
                worker("d", Stage.Diagnosis, calls, ctx -> {
                    seen.add(new LinkedHashMap<>(ctx.statusContext()));
                    return ok("found", true);
                }));

        Map<String, Object> context = seen.get(0);
        // numbers as JSON reads them (an int where one fits), a time as its text
        assertThat(((Map<?, ?>) context.get("plain")).get("pid")).isInstanceOf(Integer.class).isEqualTo(42);
        assertThat(((Map<?, ?>) context.get("plain")).get("pids")).isEqualTo(List.of(1, 5_000_000_000L));
        assertThat(((Map<?, ?>) context.get("written")).get("ratio")).isInstanceOf(Double.class).isEqualTo(0.5);
        assertThat(((Map<?, ?>) context.get("written")).get("at")).isEqualTo("2026-12-03T10:00:00Z");
        assertThat(context).isEqualTo(ApiSerialization.jsonObject(payload(ProcessorFinished.class, 0).getContextUpdates()));
    }

    @Test
    void shouldFailAProcessorWhoseOutputExceedsAnEvidenceLimit() throws Exception {
        evidenceLimits = new EvidenceBudget.Limits(2000, 10_000, 100_000);
        run(spec(List.of(ref("c"), ref("e")), List.of(), List.of()),
                worker("c", Stage.InformationCollection, calls, ctx -> ok("big", "x".repeat(3000))),
                worker("e", Stage.InformationCollection, calls, ctx -> ok("fits", "y".repeat(1500))));

        ProcessorFinished refused = payload(ProcessorFinished.class, 0);
        assertThat(refused.getSucceeded()).isFalse();
        assertThat(refused.getReason()).isEqualTo("EvidenceLimit");
        assertThat(refused.getMessage()).contains("big", "3002 bytes", "kdiag.evidence.max-value-bytes=2000");
        assertThat(payload(ProcessorFinished.class, 1).getSucceeded()).isTrue();
        assertThat(evidence.values).hasSize(1);
    }

    @Test
    void shouldCountProfilesAgainstTheEvidenceLimits() throws Exception {
        evidenceLimits = new EvidenceBudget.Limits(4000, 3020, 100_000);
        AbnormalSpec spec = spec(List.of(ref("c")), List.of(), List.of());
        ProfilerSpec profiler = goProfiler("cpu", "Diagnoser", "http://localhost:6060");
        spec.profilers = List.of(profiler);

        run(spec, worker("c", Stage.InformationCollection, calls, ctx -> ok("big", "x".repeat(3000))));

        ProfilerFinished refused = payload(ProfilerFinished.class, 0);
        assertThat(refused.getEndpoint()).isNull();
        assertThat(refused.getError()).contains("kdiag.evidence.max-abnormal-bytes=3020", "3002 kept already");
        assertThat(evidence.values).hasSize(1);
    }

    @Test
    void shouldFailAProcessorWhoseEvidenceCannotBeStored() throws Exception {
        evidence.failure = new IOException("Kafka did not acknowledge the evidence within 60 s");
        run(spec(List.of(ref("c")), List.of(), List.of()),
                worker("c", Stage.InformationCollection, calls, ctx -> ok("big", "x".repeat(3000))));

        ProcessorFinished refused = payload(ProcessorFinished.class, 0);
        assertThat(refused.getReason()).isEqualTo("OutputTooLarge");
        assertThat(refused.getMessage()).contains("within 60 s");
    }

    @Test
    void shouldKeepEveryEventUnderTheLargestRecord() throws Exception {
        limits = new OutputLimits(1_000_000, 20_000);
        Map<String, Object> many = new LinkedHashMap<>();
        for (int i = 0; i < 30; i++) {
            many.put("key" + i, "v".repeat(1000));
        }
        AbnormalSpec spec = spec(List.of(ref("c")), List.of(), List.of());
        spec.commandExecutors = List.of(command("InformationCollector", "sh", "-c", "head -c 50000 /dev/zero | tr '\\000' x"));

        run(spec, worker("c", Stage.InformationCollection, calls, ctx -> WorkResult.succeeded(many, Set.of())));

        assertThat(sink.events).allSatisfy(e -> assertThat(e.toByteBuffer().remaining()).isLessThanOrEqualTo(20_000));
        assertThat(payload(CommandFinished.class, 0).getStdout()).contains("[output truncated at 1808 bytes]");
        Map<String, Object> updates = ApiSerialization.jsonObject(payload(ProcessorFinished.class, 0).getContextUpdates());
        assertThat(updates).hasSize(30);
        assertThat(updates.values()).anySatisfy(v -> assertThat(v).isInstanceOf(Map.class))
                .anySatisfy(v -> assertThat(v).isEqualTo("v".repeat(1000)));
    }

    @Test
    void shouldRefuseWhatThePolicyDoesNotGrantAndNameTheRule() throws Exception {
        policy = () -> Policy.parse("""
                commandAllowlist: [{prefix: [echo]}]
                grants:
                  - namespaces: [other]
                    processors: ["*"]
                    commands: ["*"]
                    profilers: ["*"]
                """, "policy.yaml");
        AbnormalSpec spec = spec(List.of(ref("c")), List.of(), List.of());
        spec.commandExecutors = List.of(command("InformationCollector", "echo", "hi"));
        ProfilerSpec profiler = goProfiler("cpu", "InformationCollector", "http://localhost:6060");
        spec.profilers = List.of(profiler);

        run(spec, worker("c", Stage.InformationCollection, calls, ctx -> ok("k", 1)));

        assertThat(calls).isEmpty();
        assertThat(sink.described()).contains("ProcessorFinished c Forbidden", "StageFinished InformationCollection Failed FailedCollect");
        assertThat(payload(ProcessorFinished.class, 0).getMessage())
                .isEqualTo("no grant of policy policy.yaml allows processor kube-diagnoser/c for namespace default and origin CustomResource");
        assertThat(payload(CommandFinished.class, 0).getError()).startsWith("Forbidden: no grant of policy policy.yaml allows command echo");
        assertThat(payload(ProfilerFinished.class, 0).getError()).startsWith("Forbidden: no grant of policy policy.yaml allows go profilers");
    }

    @Test
    void shouldCheckTheSignalRecoverersTargetsBeforeItRuns() throws Exception {
        AbnormalSpec forbidden = spec(List.of(), List.of(), List.of(ref(SIGNAL_RECOVERER)));
        forbidden.context = Map.of(SIGNAL_RECOVERY, List.of(Map.of("pid", 999_999, "signal", 15), Map.of("pid", 1, "signal", 15)));
        StageWorker recoverer = worker(SIGNAL_RECOVERER, Stage.Recovery, calls, ctx -> ok("sent", true));

        run(request("uid-1", "node-a", forbidden), recoverer);
        AbnormalSpec allowed = spec(List.of(), List.of(), List.of(ref(SIGNAL_RECOVERER)));
        allowed.context = Map.of(SIGNAL_RECOVERY, List.of(Map.of("pid", 999_999, "signal", 15)));
        run(request("uid-2", "node-a", allowed), recoverer);

        assertThat(payload(ProcessorFinished.class, 0).getReason()).isEqualTo("Forbidden");
        assertThat(payload(ProcessorFinished.class, 0).getMessage()).isEqualTo("pid 1 is never signalled");
        assertThat(payload(ProcessorFinished.class, 1).getSucceeded()).isTrue();
        assertThat(calls).containsExactly(SIGNAL_RECOVERER);
    }

    @Test
    void shouldRunAProfilerEngineFromTheClassPathAndLinkItsResult() throws Exception {
        AbnormalSpec spec = spec(List.of(), List.of(), List.of());
        ProfilerSpec profiler = goProfiler("cpu", "Diagnoser", "http://localhost:6060");
        ProfilerSpec broken = goProfiler("broken", "Diagnoser", null);
        spec.profilers = List.of(profiler, broken);

        run(spec);

        ProfilerFinished finished = payload(ProfilerFinished.class, 0);
        assertThat(finished.getError()).isNull();
        // the page is evidence, served by the status writer at the reference's path
        assertThat(evidence.values).singleElement().extracting(v -> new String(v, StandardCharsets.UTF_8)).asString()
                .contains("http://localhost:6060");
        assertThat(evidence.types).containsExactly("text/html");
        assertThat(finished.getEndpoint()).startsWith("/api/v1/evidence/").contains("&type=text%2Fhtml");
        assertThat(payload(ProfilerFinished.class, 1).getError()).isEqualTo("profiler broken: go.source is required");
        assertThat(registry.counter(AgentMetrics.PROFILER, "stage", "Diagnosis", "result", "success").count()).isEqualTo(1);
        assertThat(KubeDiagMetrics.of(registry).get(KubeDiagMetric.DIAGNOSER_CHAIN_PROFILER_SUCCESS_COUNT)).isEqualTo(1);
    }

    @Test
    void shouldCallRegisteredProcessorsOverHttpAndItselfWithItsToken() throws Exception {
        List<Map<String, String>> seenHeaders = new ArrayList<>();
        com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            Map<String, String> headers = new LinkedHashMap<>();
            headers.put("path", exchange.getRequestURI().getPath());
            headers.put("token", exchange.getRequestHeaders().getFirst(RemoteProcessor.TOKEN_HEADER));
            headers.put("origin", exchange.getRequestHeaders().getFirst(RemoteProcessor.ORIGIN_HEADER));
            synchronized (seenHeaders) {
                seenHeaders.add(headers);
            }
            io.kdiag.api.v1.Abnormal abnormal = ApiSerialization.abnormal(new String(exchange.getRequestBody().readAllBytes(),
                    java.nio.charset.StandardCharsets.UTF_8));
            abnormal.getStatus().context.put(exchange.getRequestURI().getPath().substring(1), abnormal.getStatus().phase);
            byte[] body = ApiSerialization.json(abnormal).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        try {
            ownServer = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
            io.kdiag.api.v1.ProcessorSpec remoteSpec = new io.kdiag.api.v1.ProcessorSpec();
            remoteSpec.externalIP = "localhost";
            remoteSpec.externalPort = server.getAddress().getPort();
            remoteSpec.path = "remote";
            io.kdiag.api.v1.ProcessorSpec selfSpec = new io.kdiag.api.v1.ProcessorSpec();
            selfSpec.path = "/self";
            registrations = new Registrations() {
                @Override
                public java.util.Optional<Registered> find(Stage stage, String namespace, String name) {
                    return stage == Stage.Diagnosis && namespace.equals("team")
                            ? java.util.Optional.of(new Registered(name.equals("remote") ? remoteSpec : selfSpec, false, false)) : java.util.Optional.empty();
                }

                @Override
                public List<io.fabric8.kubernetes.api.model.HasMetadata> list(Stage stage) {
                    return List.of();
                }
            };

            run(spec(List.of(), List.of(new NamespacedName("team", "self"), new NamespacedName("team", "remote")), List.of()));
        } finally {
            server.stop(0);
        }

        assertThat(sink.described()).as(payload(ProcessorFinished.class, 0).getMessage()).contains("ProcessorFinished self ok", "StageFinished Diagnosis Succeeded self");
        assertThat(ApiSerialization.jsonObject(payload(ProcessorFinished.class, 0).getContextUpdates())).isEqualTo(Map.of("self", "Diagnosing"));
        assertThat(seenHeaders).containsExactly(Map.of("path", "/self", "token", "token", "origin", "CustomResource"));
    }

    @Test
    void shouldFailTimeoutsAndExceptionsWithoutStoppingOthers() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        run(spec(List.of(ref("slow"), ref("throws"), ref("big"), ref("good")), List.of(), List.of()),
                withTimeout(worker("slow", Stage.InformationCollection, calls, ctx -> {
                    try {
                        never.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return ok("k", 1);
                }), Duration.ofMillis(500)),
                worker("throws", Stage.InformationCollection, calls, ctx -> {
                    throw new IllegalStateException("boom");
                }),
                worker("good", Stage.InformationCollection, calls, ctx -> ok("k", 1)));

        assertThat(sink.described()).contains("ProcessorFinished slow Timeout", "ProcessorFinished throws Error",
                "ProcessorFinished good ok", "StageFinished InformationCollection Succeeded");
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
        assertThat(payload(CommandFinished.class, 1).getError()).startsWith("Forbidden: rm -rf / has none of the forms of the commandAllowlist");
        assertThat(payload(CommandFinished.class, 2).getError()).isEqualTo("exit code 4");
        assertThat(registry.counter(AgentMetrics.COMMAND_EXECUTOR, "stage", "InformationCollection", "result", "fail").count()).isEqualTo(1);
        assertThat(registry.counter(AgentMetrics.COMMAND_EXECUTOR, "stage", "InformationCollection", "result", "success").count()).isEqualTo(1);
        assertThat(registry.counter(AgentMetrics.COMMAND_EXECUTOR, "stage", "Diagnosis", "result", "fail").count()).isEqualTo(1);
        // KubeDiag counted a command that ran as a success, whatever its exit code; one refused as a failure
        KubeDiagMetrics kubediag = KubeDiagMetrics.of(registry);
        assertThat(kubediag.get(KubeDiagMetric.INFORMATION_MANAGER_COMMAND_EXECUTOR_SUCCESS_COUNT)).isEqualTo(1);
        assertThat(kubediag.get(KubeDiagMetric.INFORMATION_MANAGER_COMMAND_EXECUTOR_FAIL_COUNT)).isEqualTo(1);
        assertThat(kubediag.get(KubeDiagMetric.DIAGNOSER_CHAIN_COMMAND_EXECUTOR_SUCCESS_COUNT)).isEqualTo(1);
    }

    @Test
    void shouldSayWhenNoProfilerEngineIsInstalled() throws Exception {
        AbnormalSpec spec = spec(List.of(), List.of(), List.of());
        ProfilerSpec profiler = new ProfilerSpec();
        profiler.name = "heap";
        profiler.type = "Diagnoser";
        profiler.java = new ProfilerSpec.JavaProfilerSpec();
        spec.profilers = List.of(profiler);

        run(spec);

        assertThat(sink.described()).contains("ProfilerFinished Diagnosis heap");
        assertThat(payload(ProfilerFinished.class, 0).getError())
                .isEqualTo("profiler heap: java profiling is not available in this agent (no profiler engine for java is installed)");
        assertThat(registry.counter(AgentMetrics.PROFILER, "stage", "Diagnosis", "result", "fail").count()).isEqualTo(1);
        assertThat(KubeDiagMetrics.of(registry).get(KubeDiagMetric.DIAGNOSER_CHAIN_PROFILER_FAIL_COUNT)).isEqualTo(1);
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

    private static ProfilerSpec goProfiler(String name, String type, String source) {
        ProfilerSpec profiler = new ProfilerSpec();
        profiler.name = name;
        profiler.type = type;
        profiler.go = new ProfilerSpec.GoProfilerSpec();
        profiler.go.source = source;
        return profiler;
    }

    private static CommandExecutorSpec command(String type, String... command) {
        CommandExecutorSpec spec = new CommandExecutorSpec();
        spec.type = type;
        spec.command = List.of(command);
        spec.timeoutSeconds = 5;
        return spec;
    }
}
