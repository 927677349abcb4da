package io.kdiag.nodeagent.run;

import static io.kdiag.nodeagent.Fixtures.ref;
import static io.kdiag.nodeagent.Fixtures.request;
import static io.kdiag.nodeagent.Fixtures.withTimeout;
import static io.kdiag.nodeagent.Fixtures.worker;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.NamespacedName;
import io.kdiag.api.v1.ProcessorSpec;
import io.kdiag.nodeagent.policy.Policy;
import io.kdiag.nodeagent.processors.Registrations;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.RecoveryControl;
import io.kdiag.schemas.avro.ShadowFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.WorkerRunner;
import io.kdiag.stageworkers.builtin.SignalRecoverer;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Shadow diagnosers and recoverers beside the real chain: what they get, what they may not touch, what is recorded. */
class ShadowRunsTest {
    private static final String GRANTING_EVERYTHING = "grants: [{processors: [\"*\"]}]\n";
    @TempDir
    Path stateDir;
    private final RunFixtures.ListSink sink = new RunFixtures.ListSink();
    private final List<String> calls = new ArrayList<>();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final WorkerRunner workers = new WorkerRunner(64 * 1024 * 1024);
    private final List<Process> children = new ArrayList<>();
    private Journal journal;
    private Supplier<Policy> policy;
    private Registrations registrations = Registrations.NONE;
    private NodeServices node;
    private RecoverySwitch recoveries = RunFixtures.running();

    @BeforeEach
    void open() throws Exception {
        journal = Journal.open(stateDir);
        node = RunFixtures.node(HostPaths.of(stateDir), ProcessHandle.current().pid());
    }

    @AfterEach
    void close() throws Exception {
        children.forEach(Process::destroyForcibly);
        workers.close();
        journal.close();
    }

    private void policy(String yaml) {
        Policy parsed = Policy.parse(yaml, "policy.yaml");
        policy = () -> parsed;
    }

    private void run(String uid, AbnormalSpec spec, StageWorker... catalog) throws Exception {
        StageRunner runner = RunFixtures.stageRunner(node, List.of(catalog), workers, policy, registrations,
                URI.create("http://127.0.0.1:1/"), new OutputLimits(4096, 100_000), new RunFixtures.MemoryEvidence(),
                RunFixtures.budget(RunFixtures.LIMITS), registry, recoveries);
        runner.run(request(uid, "node-a", spec), new AbnormalEvents(uid, "node-a", 0, sink, journal, Clock.systemUTC()));
    }

    private static AbnormalSpec spec(List<NamespacedName> collectors, List<NamespacedName> diagnosers, List<NamespacedName> recoverers) {
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = "node-a";
        spec.assignedInformationCollectors = collectors;
        spec.assignedDiagnosers = diagnosers;
        spec.assignedRecoverers = recoverers;
        return spec;
    }

    private List<ShadowFinished> shadows() {
        return sink.events.stream().map(DiagnosisEvent::getPayload).filter(ShadowFinished.class::isInstance)
                .map(ShadowFinished.class::cast).toList();
    }

    private double shadowRuns(String processor, String verdict) {
        var counter = registry.find(AgentMetrics.SHADOW_RUNS).tag("processor", processor).tag("verdict", verdict).counter();
        return counter == null ? 0 : counter.count();
    }

    private Process sleeping() throws Exception {
        Process sleep = new ProcessBuilder("sleep", "300").start();
        children.add(sleep);
        return sleep;
    }

    @Test
    void shouldRunAShadowDiagnoserAfterTheStagesDecisionOnItsInputWithoutTouchingTheContext() throws Exception {
        policy(GRANTING_EVERYTHING + "shadows: [{diagnoser: kube-diagnoser/sd}]\n");
        List<Map<String, Object>> seenByShadow = new ArrayList<>();
        List<Map<String, Object>> seenByRecoverer = new ArrayList<>();

        run("uid-1", spec(List.of(ref("c")), List.of(ref("d")), List.of(ref("r"))),
                worker("c", Stage.InformationCollection, calls, ctx -> WorkResult.succeeded(Map.of("collected", 1), Set.of())),
                worker("d", Stage.Diagnosis, calls, ctx -> WorkResult.succeeded(Map.of("diagnosis", "real"), Set.of("collected"))),
                worker("sd", Stage.Diagnosis, calls, ctx -> {
                    seenByShadow.add(new LinkedHashMap<>(ctx.statusContext()));
                    return WorkResult.succeeded(Map.of("diagnosis", "shadow", "signalRecovery", List.of()), Set.of("collected"));
                }),
                worker("r", Stage.Recovery, calls, ctx -> {
                    seenByRecoverer.add(new LinkedHashMap<>(ctx.statusContext()));
                    return WorkResult.succeeded(Map.of(), Set.of());
                }));

        assertThat(calls).containsExactly("c", "d", "sd", "r");
        assertThat(sink.described()).containsSubsequence("StageFinished Diagnosis Succeeded d",
                "ShadowFinished Diagnosis sd Identified", "StageStarted Recovery");
        // the shadow got what the real diagnosers got; the real recoverer got nothing of the shadow's
        assertThat(seenByShadow).containsExactly(Map.of("collected", 1));
        assertThat(seenByRecoverer).containsExactly(Map.of("diagnosis", "real"));
        ShadowFinished shadow = shadows().get(0);
        assertThat(ApiSerialization.jsonObject(shadow.getContextUpdates())).isEqualTo(Map.of("diagnosis", "shadow", "signalRecovery", List.of()));
        assertThat(shadow.getPlan()).isNull();
        assertThat(shadowRuns("kube-diagnoser/sd", "Identified")).isEqualTo(1);
    }

    @Test
    void shouldRunAShadowDiagnoserBesideAFailedDiagnosisAndLeaveTheAbnormalFailed() throws Exception {
        policy(GRANTING_EVERYTHING + "shadows: [{diagnoser: kube-diagnoser/sd}, {recoverer: kube-diagnoser/sr}]\n");

        run("uid-1", spec(List.of(), List.of(ref("d")), List.of(ref("r"))),
                worker("d", Stage.Diagnosis, calls, ctx -> WorkResult.failed("NoMatchingProcess", "none")),
                worker("sd", Stage.Diagnosis, calls, ctx -> WorkResult.succeeded(Map.of("found", true), Set.of())),
                worker("r", Stage.Recovery, calls, ctx -> WorkResult.succeeded(Map.of(), Set.of())));

        assertThat(sink.described()).endsWith("StageFinished Diagnosis Failed FailedIdentify", "ShadowFinished Diagnosis sd Identified");
        // recovery is never reached: no shadow recoverer either
        assertThat(calls).containsExactly("d", "sd");
    }

    @Test
    void shouldAskAShadowRecovererWhatItWouldDoAndNeverLetItAct() throws Exception {
        policy(GRANTING_EVERYTHING + "shadows: [{recoverer: kube-diagnoser/signal-recoverer}]\n");
        Process target = sleeping();
        AbnormalSpec spec = spec(List.of(), List.of(ref("d")), List.of());
        spec.skipRecovery = true;

        run("uid-1", spec, worker("d", Stage.Diagnosis, calls,
                ctx -> WorkResult.succeeded(Map.of("signalRecovery", List.of(Map.of("pid", target.pid(), "signal", 9))), Set.of())),
                new SignalRecoverer());

        assertThat(sink.described()).endsWith("StageFinished Recovery Skipped", "ShadowFinished Recovery signal-recoverer WouldAct")
                .doesNotContain("ProcessorStarted signal-recoverer");
        ShadowFinished shadow = shadows().get(0);
        assertThat(shadow.getVerdict()).isTrue();
        assertThat(shadow.getPlan()).isEqualTo("{\"signals\":[{\"pid\":" + target.pid() + ",\"signal\":9}]}");
        assertThat(shadow.getContextUpdates()).isNull();
        assertThat(target.waitFor(300, TimeUnit.MILLISECONDS)).as("the process the shadow would have killed").isFalse();
        assertThat(shadowRuns("kube-diagnoser/signal-recoverer", "WouldAct")).isEqualTo(1);
    }

    @Test
    void shouldNeedAGrantAndKeepAPlanThePolicyWouldRefuse() throws Exception {
        policy("grants: [{processors: [kube-diagnoser/d]}]\nshadows: [{recoverer: kube-diagnoser/signal-recoverer}]\n");
        AbnormalSpec toPidOne = spec(List.of(), List.of(ref("d")), List.of());
        StageWorker diagnoser = worker("d", Stage.Diagnosis, calls,
                ctx -> WorkResult.succeeded(Map.of("signalRecovery", List.of(Map.of("pid", 1, "signal", 9))), Set.of()));
        run("uid-1", toPidOne, diagnoser, new SignalRecoverer());
        policy("grants: [{processors: [\"*\"]}]\nallowedSignals: [15]\nshadows: [{recoverer: kube-diagnoser/signal-recoverer}]\n");
        Process target = sleeping();
        run("uid-2", spec(List.of(), List.of(ref("d")), List.of()), worker("d", Stage.Diagnosis, calls,
                ctx -> WorkResult.succeeded(Map.of("signalRecovery", List.of(Map.of("pid", target.pid(), "signal", 9))), Set.of())),
                new SignalRecoverer());

        ShadowFinished notGranted = shadows().get(0);
        assertThat(notGranted.getVerdict()).isFalse();
        assertThat(notGranted.getReason()).isEqualTo("Forbidden");
        assertThat(notGranted.getMessage()).contains("no grant of policy policy.yaml allows processor kube-diagnoser/signal-recoverer");
        assertThat(notGranted.getPlan()).isNull();
        ShadowFinished refused = shadows().get(1);
        assertThat(refused.getVerdict()).isFalse();
        assertThat(refused.getReason()).isEqualTo("Forbidden");
        assertThat(refused.getMessage()).contains("signal 9 is not in the allowedSignals [15]");
        assertThat(refused.getPlan()).isEqualTo("{\"signals\":[{\"pid\":" + target.pid() + ",\"signal\":9}]}");
        assertThat(target.isAlive()).isTrue();
        assertThat(shadowRuns("kube-diagnoser/signal-recoverer", "NoVerdict")).isEqualTo(2);
    }

    @Test
    void shouldContainShadowsThatFailOrHangAndCarryOnWithTheRealChain() throws Exception {
        policy(GRANTING_EVERYTHING + """
                shadows:
                  - diagnoser: kube-diagnoser/throws
                  - diagnoser: kube-diagnoser/hangs
                  - diagnoser: kube-diagnoser/missing
                  - recoverer: kube-diagnoser/no-plan
                """);
        CountDownLatch never = new CountDownLatch(1);

        run("uid-1", spec(List.of(), List.of(ref("d")), List.of(ref("r"))),
                worker("d", Stage.Diagnosis, calls, ctx -> WorkResult.succeeded(Map.of(), Set.of())),
                worker("throws", Stage.Diagnosis, calls, ctx -> {
                    throw new IllegalStateException("boom");
                }),
                withTimeout(worker("hangs", Stage.Diagnosis, calls, ctx -> {
                    try {
                        never.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return WorkResult.succeeded(Map.of(), Set.of());
                }), Duration.ofMillis(200)),
                worker("no-plan", Stage.Recovery, calls, ctx -> WorkResult.succeeded(Map.of("acted", true), Set.of())),
                worker("r", Stage.Recovery, calls, ctx -> WorkResult.succeeded(Map.of(), Set.of())));

        assertThat(sink.described()).containsSubsequence("StageFinished Diagnosis Succeeded d",
                "ShadowFinished Diagnosis throws NoVerdict Error", "ShadowFinished Diagnosis hangs NoVerdict Timeout",
                "ShadowFinished Diagnosis missing NoVerdict ProcessorNotFound", "StageStarted Recovery",
                "StageFinished Recovery Succeeded r", "ShadowFinished Recovery no-plan NoVerdict NoDryRun");
        // a recoverer without a plan is never run in shadow mode
        assertThat(calls).doesNotContain("no-plan");
    }

    @Test
    void shouldRunOnlyBesideTheChainsItNamesNotWhereAssignedAndNotWhenTheKillSwitchRefusedTheStage() throws Exception {
        policy(GRANTING_EVERYTHING + """
                shadows:
                  - diagnoser: kube-diagnoser/sd
                    beside: [kube-diagnoser/c]
                  - recoverer: kube-diagnoser/sr
                    beside: [kube-diagnoser/r]
                """);
        StageWorker[] catalog = {
            worker("c", Stage.InformationCollection, calls, ctx -> WorkResult.succeeded(Map.of(), Set.of())),
            worker("d", Stage.Diagnosis, calls, ctx -> WorkResult.succeeded(Map.of(), Set.of())),
            worker("sd", Stage.Diagnosis, calls, ctx -> WorkResult.succeeded(Map.of(), Set.of())),
            worker("r", Stage.Recovery, calls, ctx -> WorkResult.succeeded(Map.of(), Set.of())),
            worker("sr", Stage.Recovery, calls, ctx -> WorkResult.succeeded(Map.of(), Set.of()))};

        run("not-beside", spec(List.of(), List.of(ref("d")), List.of()), catalog);
        run("assigned", spec(List.of(ref("c")), List.of(ref("sd")), List.of()), catalog);
        run("beside", spec(List.of(ref("c")), List.of(ref("d")), List.of(ref("r"))), catalog);
        recoveries.apply(new RecoveryControl(true, "User:alice", Instant.now(), "drill"));
        run("paused", spec(List.of(), List.of(ref("d")), List.of(ref("r"))), catalog);

        assertThat(shadows()).extracting(s -> s.getProcessor().getName()).containsExactly("sd", "sr");
        assertThat(sink.events).filteredOn(e -> e.getPayload() instanceof ShadowFinished).extracting(DiagnosisEvent::getAbnormalUid)
                .containsOnly("beside");
        assertThat(calls).containsExactly("d", "c", "sd", "c", "d", "sd", "r", "d");
    }

    @Test
    @SuppressWarnings("unchecked")
    void shouldRecordTheRequestARegisteredShadowRecovererWouldBeSentWithoutCallingIt() throws Exception {
        AtomicInteger requests = new AtomicInteger();
        ProcessorSpec registration = new ProcessorSpec();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            requests.incrementAndGet();
            exchange.sendResponseHeaders(500, -1);
            exchange.close();
        });
        server.start();
        try {
            registration.externalIP = "127.0.0.1";
            registration.externalPort = server.getAddress().getPort();
            registration.path = "/restart";
            registration.timeoutSeconds = 7;
            registrations = new Registrations() {
                @Override
                public Optional<Registered> find(Stage stage, String namespace, String name) {
                    return stage == Stage.Recovery && namespace.equals("team-a") ? Optional.of(new Registered(registration, false, false)) : Optional.empty();
                }

                @Override
                public List<HasMetadata> list(Stage stage) {
                    return List.of();
                }
            };
            policy(GRANTING_EVERYTHING + "shadows: [{recoverer: team-a/restarter}]\n");

            run("uid-1", spec(List.of(), List.of(ref("d")), List.of()),
                    worker("d", Stage.Diagnosis, calls, ctx -> WorkResult.succeeded(Map.of("restart", "kubelet"), Set.of())));
        } finally {
            server.stop(0);
        }

        assertThat(requests).hasValue(0);
        ShadowFinished shadow = shadows().get(0);
        assertThat(shadow.getVerdict()).isTrue();
        assertThat(shadow.getMessage()).startsWith("not called: KubeDiag's processor protocol has no dry run");
        Map<String, Object> request = (Map<String, Object>) ApiSerialization.jsonObject(shadow.getPlan()).get("request");
        assertThat(request).containsEntry("method", "POST")
                .containsEntry("url", "http://127.0.0.1:" + registration.externalPort + "/restart")
                .containsEntry("timeoutSeconds", 7);
        assertThat((Map<String, Object>) request.get("body")).containsEntry("contextKeys", List.of("restart")).containsKeys("bytes", "sha256");
    }
}
