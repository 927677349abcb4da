package io.kdiag.nodeagent.run;

import static io.kdiag.nodeagent.Fixtures.request;
import static io.kdiag.nodeagent.Fixtures.worker;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.nodeagent.Fixtures;
import io.kdiag.nodeagent.processors.Registrations;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.BudgetChecked;
import io.kdiag.schemas.avro.BudgetVerdict;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.stageworkers.WorkerRunner;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.WorkResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stage runner asks the recovery budgets before each recoverer they cover, and runs it only when granted. */
class StageRunnerBudgetTest {
    @TempDir
    Path stateDir;
    private final RunFixtures.ListSink sink = new RunFixtures.ListSink();
    private final List<String> calls = new ArrayList<>();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final WorkerRunner workers = new WorkerRunner(64 * 1024 * 1024);
    private final Budgets gate = new Budgets();
    private final Parking parking = RunFixtures.parking();
    private Journal journal;
    private NodeServices node;

    /** Budgets answering what the test says, covering the recoverers it names, recording what was asked and given back. */
    private static final class Budgets implements RecoveryBudgetGate {
        final List<String> covered = new ArrayList<>();
        final List<String> asked = new ArrayList<>();
        final List<String> released = new ArrayList<>();
        final List<Late> late = new ArrayList<>();
        Answer answer = new Answer(BudgetVerdict.Granted, null, "within nodes-at-once: 1 of 3 nodes in recovery at once");

        @Override
        public boolean covers(String namespace, NamespacedName recoverer) {
            return covered.contains(recoverer.getName());
        }

        @Override
        public Answer acquire(String uid, String namespace, NamespacedName recoverer) {
            asked.add(uid + " " + namespace + " " + recoverer.getName());
            return answer;
        }

        @Override
        public void release(String uid, String namespace, NamespacedName recoverer) {
            released.add(uid + " " + recoverer.getName());
        }

        @Override
        public void ask(String uid, String namespace, NamespacedName recoverer) {
            asked.add(uid + " " + namespace + " " + recoverer.getName() + " again");
        }

        @Override
        public List<Late> lateAnswers() {
            List<Late> answers = List.copyOf(late);
            late.clear();
            return answers;
        }

        @Override
        public Duration maxWait() {
            return Duration.ofMinutes(10);
        }

        @Override
        public Duration answerTimeout() {
            return Duration.ofSeconds(30);
        }
    }

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

    private StageRunner runner(String... names) {
        return RunFixtures.stageRunner(node, Arrays.stream(names)
                        .map(n -> worker(n, Stage.Recovery, calls, ctx -> WorkResult.succeeded(Map.of(n, 1), Set.of()))).toList(),
                workers, Fixtures::grantingEverything, Registrations.NONE, URI.create("http://127.0.0.1:1/"), new OutputLimits(1024, 100_000),
                new RunFixtures.MemoryEvidence(), RunFixtures.budget(RunFixtures.LIMITS), registry, RunFixtures.running(),
                new Approvals("node-a", Registrations.NONE, Fixtures::grantingEverything, Duration.ofHours(1), Clock.systemUTC()),
                parking, gate);
    }

    private static AbnormalRequest recoveryOf(String... names) {
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = "node-a";
        spec.assignedRecoverers = Arrays.stream(names).map(Fixtures::ref).toList();
        return request("uid-1", "node-a", spec);
    }

    private void runRecoverers(String... names) throws Exception {
        AbnormalRequest request = recoveryOf(names);
        runner(names).run(request, new AbnormalEvents(request.getUid(), "node-a", 0, sink, journal, Clock.systemUTC()));
    }

    private <T> List<T> payloads(Class<T> type) {
        return sink.events.stream().map(DiagnosisEvent::getPayload).filter(type::isInstance).map(type::cast).toList();
    }

    private double checks(String verdict) {
        return registry.get("kdiag.agent.recovery.budget.checks").tag("verdict", verdict).counter().count();
    }

    @Test
    void shouldRunACoveredRecovererOnceGrantedRecordTheAnswerAndGiveTheSlotBack() throws Exception {
        gate.covered.add("r");

        runRecoverers("r");

        assertThat(calls).containsExactly("r");
        assertThat(gate.asked).containsExactly("uid-1 default r");
        assertThat(gate.released).containsExactly("uid-1 r");
        BudgetChecked checked = payloads(BudgetChecked.class).get(0);
        assertThat(checked.getVerdict()).isEqualTo(BudgetVerdict.Granted);
        assertThat(checked.getProcessor().getName()).isEqualTo("r");
        assertThat(sink.described()).containsSubsequence("BudgetChecked", "ProcessorStarted r", "StageFinished Recovery Succeeded r");
        assertThat(checks("Granted")).isEqualTo(1.0);
    }

    @Test
    void shouldEndTheRecoveryFailedNamingTheBudgetWhenExceeded() throws Exception {
        gate.covered.add("r");
        gate.answer = new RecoveryBudgetGate.Answer(BudgetVerdict.Exceeded, "five-per-namespace",
                "budget five-per-namespace namespace=default allows 5 recoveries per 10m (5 started in the last 10m)");

        runRecoverers("r");

        assertThat(calls).isEmpty();
        assertThat(sink.described()).endsWith("StageStarted Recovery", "BudgetChecked", "StageFinished Recovery Failed BudgetExceeded");
        assertThat(payloads(BudgetChecked.class).get(0).getBudget()).isEqualTo("five-per-namespace");
        assertThat(payloads(StageFinished.class).get(2).getMessage()).isEqualTo("recoverer kube-diagnoser/r not run: budget "
                + "five-per-namespace namespace=default allows 5 recoveries per 10m (5 started in the last 10m)");
        assertThat(gate.released).isEmpty();
        assertThat(checks("Exceeded")).isEqualTo(1.0);
    }

    @Test
    void shouldFailWithoutAnAnswerAndGiveBackALateGrant() throws Exception {
        gate.covered.add("r");
        gate.answer = new RecoveryBudgetGate.Answer(BudgetVerdict.Unknown, null, "the budget arbiter did not answer within 30s");

        runRecoverers("r");

        assertThat(calls).isEmpty();
        assertThat(sink.described()).last().isEqualTo("StageFinished Recovery Failed BudgetUnanswered");
        assertThat(gate.released).containsExactly("uid-1 r");
    }

    @Test
    void shouldParkTheFirstRecovererOverAWaitingBudgetWithoutHoldingTheAgentAndRunItOnceGranted() throws Exception {
        gate.covered.add("r");
        gate.answer = new RecoveryBudgetGate.Answer(BudgetVerdict.Waiting, "nodes-at-once", "budget nodes-at-once allows 3 nodes");
        BudgetWaits waits = new BudgetWaits(gate);
        RequestHandler requests = new RequestHandler(runner("r"), new EventLog("node-a", sink, journal, Clock.systemUTC()),
                new AgentMetrics(registry), parking, List.of(waits));

        assertThat(requests.handle(recoveryOf("r"))).isTrue();

        // parked: the handler returned, nothing ran, the wait is on record and on the disk
        assertThat(calls).isEmpty();
        assertThat(sink.described()).endsWith("StageStarted Recovery", "BudgetChecked");
        assertThat(parking.get("uid-1")).hasValueSatisfying(p -> assertThat(p.gate()).isEqualTo(BudgetWaits.GATE));
        // an answer that is no news changes nothing
        gate.late.add(new RecoveryBudgetGate.Late("uid-1", new NamespacedName("kube-diagnoser", "r"), gate.answer));
        requests.answerBudgets();
        assertThat(parking.size()).isEqualTo(1);

        gate.late.add(new RecoveryBudgetGate.Late("uid-1", new NamespacedName("kube-diagnoser", "r"),
                new RecoveryBudgetGate.Answer(BudgetVerdict.Granted, null, "within nodes-at-once: 3 of 3 nodes in recovery at once")));
        requests.answerBudgets();

        assertThat(calls).containsExactly("r");
        assertThat(parking.size()).isZero();
        assertThat(payloads(BudgetChecked.class)).extracting(BudgetChecked::getVerdict).containsExactly(BudgetVerdict.Waiting,
                BudgetVerdict.Granted);
        assertThat(sink.described()).endsWith("BudgetChecked", "ProcessorStarted r", "ProcessorFinished r ok",
                "StageFinished Recovery Succeeded r");
        // asked once, the place given back once the recoverer ended
        assertThat(gate.asked).containsExactly("uid-1 default r");
        assertThat(gate.released).containsExactly("uid-1 r");
    }

    @Test
    void shouldEndAWaitTheArbiterRefusedOrThatOutlivedItsDeadline() throws Exception {
        gate.covered.add("r");
        gate.answer = new RecoveryBudgetGate.Answer(BudgetVerdict.Waiting, "nodes-at-once", "budget nodes-at-once allows 3 nodes");
        BudgetWaits waits = new BudgetWaits(gate);
        RequestHandler requests = new RequestHandler(runner("r"), new EventLog("node-a", sink, journal, Clock.systemUTC()),
                new AgentMetrics(registry), parking, List.of(waits));
        requests.handle(recoveryOf("r"));

        requests.endExpired(Instant.now().plus(Duration.ofMinutes(11)));

        assertThat(calls).isEmpty();
        assertThat(sink.described()).last().isEqualTo("StageFinished Recovery Failed BudgetExceeded");
        assertThat(payloads(StageFinished.class)).last().extracting(StageFinished::getMessage).asString()
                .startsWith("recoverer kube-diagnoser/r not run: no room in the recovery budgets before ");
        // the wait is withdrawn at the arbiter
        assertThat(gate.released).containsExactly("uid-1 r");
    }

    @Test
    void shouldWithdrawTheWaitOfALaterRecovererAndFail() throws Exception {
        gate.covered.add("r2");
        gate.answer = new RecoveryBudgetGate.Answer(BudgetVerdict.Waiting, "nodes-at-once", "budget nodes-at-once allows 3 nodes");

        AbnormalRequest request = recoveryOf("r1", "r2");
        StageRunner runner = RunFixtures.stageRunner(node, List.of(
                        worker("r1", Stage.Recovery, calls, ctx -> WorkResult.failed("Refused", "r1 could not")),
                        worker("r2", Stage.Recovery, calls, ctx -> WorkResult.succeeded(Map.of("r2", 1), Set.of()))),
                workers, Fixtures::grantingEverything, Registrations.NONE, URI.create("http://127.0.0.1:1/"), new OutputLimits(1024, 100_000),
                new RunFixtures.MemoryEvidence(), RunFixtures.budget(RunFixtures.LIMITS), registry, RunFixtures.running(),
                new Approvals("node-a", Registrations.NONE, Fixtures::grantingEverything, Duration.ofHours(1), Clock.systemUTC()),
                parking, gate);
        runner.run(request, new AbnormalEvents(request.getUid(), "node-a", 0, sink, journal, Clock.systemUTC()));

        assertThat(calls).containsExactly("r1");
        assertThat(parking.size()).isZero();
        assertThat(sink.described()).last().isEqualTo("StageFinished Recovery Failed BudgetExceeded");
        assertThat(payloads(StageFinished.class)).last().extracting(StageFinished::getMessage).asString()
                .contains("only the first recoverer of a stage can wait");
        assertThat(gate.released).containsExactly("uid-1 r2");
    }

    @Test
    void shouldAskNothingForARecovererNoBudgetCovers() throws Exception {
        gate.covered.add("r2");

        runRecoverers("r1", "r2");

        assertThat(calls).containsExactly("r1");
        assertThat(gate.asked).isEmpty();
        assertThat(payloads(BudgetChecked.class)).isEmpty();
    }
}
