package io.kdiag.nodeagent.run;

import static io.kdiag.nodeagent.Fixtures.ref;
import static io.kdiag.nodeagent.Fixtures.request;
import static io.kdiag.nodeagent.Fixtures.worker;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.LongStream;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.CommandExecutorSpec;
import io.kdiag.api.v1.ProcessorSpec;
import io.kdiag.nodeagent.Fixtures;
import io.kdiag.nodeagent.policy.Policy;
import io.kdiag.nodeagent.processors.Registrations;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.ApprovalDecided;
import io.kdiag.schemas.avro.ApprovalRequested;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.Stage;
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

/**
 * The approval gate through the request handler and the stage runner: what makes a recovery wait, what a parked
 * abnormal keeps, and how a decision, a deadline or a restart ends or keeps the wait.
 */
class ApprovalGateTest {
    private static final String POLICY_REQUIRING_APPROVAL = """
            commandAllowlist: [{prefix: [echo]}]
            grants:
            - {processors: ["*"], commands: ["*"]}
            - {namespaces: [default], processors: [kube-diagnoser/r], requireApproval: true}
            """;

    @TempDir
    Path stateDir;
    private final RunFixtures.ListSink sink = new RunFixtures.ListSink();
    private final List<String> calls = new ArrayList<>();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final WorkerRunner workers = new WorkerRunner(64 * 1024 * 1024);
    private Supplier<Policy> policy = Fixtures::grantingEverything;
    private Registrations registrations = Registrations.NONE;
    private Journal journal;
    private Parking parking;
    private Approvals approvals;
    private RequestHandler handler;
    private NodeServices node;

    @BeforeEach
    void open() throws Exception {
        journal = Journal.open(stateDir);
        parking = Parking.open(stateDir);
        node = RunFixtures.node(HostPaths.of(stateDir), 4242);
    }

    @AfterEach
    void close() throws Exception {
        workers.close();
        journal.close();
    }

    /** A handler whose catalogue has the recoverer {@code r}, which records its calls. */
    private RequestHandler handler() {
        StageWorker recoverer = worker("r", Stage.Recovery, calls, ctx -> WorkResult.succeeded(Map.of("recovered", true), Set.of()));
        approvals = new Approvals("node-a", registrations, policy, Duration.ofHours(1), Clock.systemUTC());
        StageRunner stages = RunFixtures.stageRunner(node, List.of(recoverer), workers, policy, registrations, URI.create("http://127.0.0.1:1/"),
                new OutputLimits(1024, 100_000), new RunFixtures.MemoryEvidence(), RunFixtures.budget(RunFixtures.LIMITS), registry,
                RunFixtures.running(), approvals, parking);
        handler = new RequestHandler(stages, new EventLog("node-a", sink, journal, Clock.systemUTC()), new AgentMetrics(registry), parking,
                List.of(approvals));
        return handler;
    }

    private static AbnormalSpec recovering() {
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = "node-a";
        spec.assignedRecoverers = List.of(ref("r"));
        return spec;
    }

    private static AbnormalRequest labelled(String uid, AbnormalSpec spec) {
        AbnormalRequest request = request(uid, "node-a", spec);
        request.setLabels(Map.of("kdiag.io/require-approval", "true"));
        return request;
    }

    private long waitSeq(String uid) {
        return sink.events.stream().filter(e -> e.getAbnormalUid().equals(uid) && e.getPayload() instanceof ApprovalRequested)
                .mapToLong(DiagnosisEvent::getSeq).reduce((a, b) -> b).orElseThrow();
    }

    private List<String> described() {
        return sink.events.stream().map(e -> e.getPayload() instanceof ApprovalDecided d
                ? "ApprovalDecided " + d.getApproved() + " " + d.getDecidedBy() + " " + d.getReason()
                : e.getPayload() instanceof ApprovalRequested a ? "ApprovalRequested " + a.getProcessor().getName() + " " + a.getRequiredBy()
                : Fixtures.describe(e.getPayload())).toList();
    }

    @Test
    void shouldParkARecoveryTheAbnormalsLabelRequiresAndRunItOnceApproved() throws Exception {
        handler().handle(labelled("uid-1", recovering()));

        assertThat(described()).endsWith("StageStarted Recovery",
                "ApprovalRequested r the label kdiag.io/require-approval of the abnormal");
        assertThat(calls).isEmpty();
        assertThat(parking.get("uid-1")).isPresent();
        assertThat(journal.entry("uid-1").orElseThrow().finished()).isFalse();
        ApprovalRequested asked = (ApprovalRequested) sink.events.get(sink.events.size() - 1).getPayload();
        assertThat(asked.getPlan()).contains("\"node\":\"node-a\"", "\"recoverers\":[\"kube-diagnoser/r\"]");
        assertThat(asked.getExpiresAt()).isAfter(Instant.now().plus(Duration.ofMinutes(59)));

        // a duplicate of its request while it waits runs nothing again
        handler.handle(labelled("uid-1", recovering()));
        assertThat(sink.events).hasSize(described().size()).last().extracting(DiagnosisEvent::getPayload).isInstanceOf(ApprovalRequested.class);

        assertThat(handler.answer("uid-1", Approvals.GATE, waitSeq("uid-1"), p -> approvals.decided(p, true, "alice", "go"))).isTrue();

        assertThat(calls).containsExactly("r");
        assertThat(described()).endsWith("ApprovalDecided true alice go", "ProcessorStarted r", "ProcessorFinished r ok",
                "StageFinished Recovery Succeeded r");
        // one abnormal, one run of seqs without a gap or a repeat, across the wait
        assertThat(sink.events).extracting(DiagnosisEvent::getSeq).containsExactlyElementsOf(LongStream.range(0, sink.events.size()).boxed().toList());
        assertThat(parking.get("uid-1")).isEmpty();
        assertThat(journal.entry("uid-1").orElseThrow().finished()).isTrue();
    }

    @Test
    void shouldEndTheStageFailedWithoutRunningAnythingWhenDeniedOrExpired() throws Exception {
        handler().handle(labelled("denied", recovering()));
        handler.handle(labelled("unanswered", recovering()));

        handler.answer("denied", Approvals.GATE, waitSeq("denied"), p -> approvals.decided(p, false, "bob", "not now"));
        assertThat(described()).endsWith("ApprovalDecided false bob not now", "StageFinished Recovery Failed ApprovalDenied");

        handler.endExpired(Instant.now());
        assertThat(parking.get("unanswered")).as("not yet due").isPresent();
        handler.endExpired(Instant.now().plus(Duration.ofHours(2)));
        assertThat(described()).endsWith("ApprovalDecided false node-agent node-a Expired", "StageFinished Recovery Failed ApprovalExpired");
        assertThat(calls).isEmpty();
        assertThat(parking.size()).isZero();
    }

    @Test
    void shouldIgnoreAnAnswerToAnotherWaitOrAnAbnormalThatDoesNotWait() throws Exception {
        handler().handle(labelled("uid-1", recovering()));
        int before = sink.events.size();

        assertThat(handler.answer("uid-1", Approvals.GATE, waitSeq("uid-1") - 1, p -> approvals.decided(p, true, "alice", null))).isTrue();
        assertThat(handler.answer("uid-1", "Budget", waitSeq("uid-1"), p -> approvals.decided(p, true, "alice", null))).isTrue();
        assertThat(handler.answer("nobody", Approvals.GATE, 3, p -> approvals.decided(p, true, "alice", null))).isTrue();

        assertThat(sink.events).hasSize(before);
        assertThat(calls).isEmpty();
        assertThat(parking.get("uid-1")).isPresent();
    }

    @Test
    void shouldKeepWaitingAcrossARestartAndGoOnWithWhatItHadCollected() throws Exception {
        AbnormalSpec spec = recovering();
        CommandExecutorSpec command = new CommandExecutorSpec();
        command.command = List.of("echo", "collected");
        command.type = "InformationCollector";
        spec.commandExecutors = List.of(command);
        handler().handle(labelled("uid-1", spec));

        // a new agent on the same state folder: the journal and the parked wait as the old one left them
        journal.close();
        journal = Journal.open(stateDir);
        parking = Parking.open(stateDir);
        handler().endUnfinished("the agent restarted");
        assertThat(described()).doesNotContain("AbnormalFailed AgentRestarted");
        Parking.Parked parked = parking.get("uid-1").orElseThrow();
        assertThat(parked.gate()).isEqualTo(Approvals.GATE);
        assertThat(parked.resumeAt()).isEqualTo(Stage.Recovery);
        assertThat(parked.subject()).isEqualTo("kube-diagnoser/r");
        assertThat(parked.status().getCommandExecutors()).hasSize(1);

        handler.answer("uid-1", Approvals.GATE, parked.waitSeq(), p -> approvals.decided(p, true, "alice", null));
        assertThat(calls).containsExactly("r");
        assertThat(journal.entry("uid-1").orElseThrow().finished()).isTrue();
    }

    @Test
    void shouldRequireApprovalByAPolicyGrantOrARegistrationAndNotOtherwise() throws Exception {
        policy = () -> Policy.parse(POLICY_REQUIRING_APPROVAL, "test");
        handler().handle(request("by-policy", "node-a", recovering()));
        assertThat(described()).last().asString().startsWith("ApprovalRequested r grants[1] of policy test (requireApproval)");

        policy = Fixtures::grantingEverything;
        registrations = new Registrations() {
            @Override
            public Optional<Registered> find(Stage stage, String namespace, String name) {
                return Optional.of(new Registered(new ProcessorSpec(), false, name.equals("r")));
            }

            @Override
            public List<HasMetadata> list(Stage stage) {
                return List.of();
            }
        };
        handler().handle(request("by-registration", "node-a", recovering()));
        assertThat(described()).last().asString().isEqualTo("ApprovalRequested r the annotation kdiag.io/require-approval of Recoverer kube-diagnoser/r");

        registrations = Registrations.NONE;
        handler().handle(request("unmarked", "node-a", recovering()));
        assertThat(described()).last().isEqualTo("StageFinished Recovery Succeeded r");
        assertThat(calls).containsExactly("r");
    }

    @Test
    void shouldKeepEverythingAParkedAbnormalNeedsAndSetAsideAFileItCannotRead() throws Exception {
        handler().handle(labelled("uid/with.dots", recovering()));
        Parking.Parked parked = parking.get("uid/with.dots").orElseThrow();
        Files.writeString(stateDir.resolve("parked").resolve("torn"), "not a parked abnormal");

        Parking reopened = Parking.open(stateDir);

        assertThat(reopened.get("uid/with.dots")).contains(parked);
        assertThat(reopened.size()).isEqualTo(1);
        assertThat(stateDir.resolve("parked").resolve("torn.unreadable")).exists();
    }
}
