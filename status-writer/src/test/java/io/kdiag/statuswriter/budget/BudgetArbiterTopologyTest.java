package io.kdiag.statuswriter.budget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.recovery.RecoveryBudgets;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.BudgetVerdict;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.RecoveryBudgetAction;
import io.kdiag.schemas.avro.RecoveryBudgetAnswer;
import io.kdiag.schemas.avro.RecoveryBudgetRequest;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.statuswriter.StatusWriterConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BudgetArbiterTopologyTest {
    private static final Topics TOPICS = new Topics("test.");
    private static final Instant START = Instant.parse("2026-12-03T10:00:00Z");
    private static final NamespacedName SIGNAL = new NamespacedName("kube-diagnoser", "signal-recoverer");

    @TempDir
    Path stateDir;

    private TopologyTestDriver driver;
    private TestInputTopic<String, RecoveryBudgetRequest> requests;
    private TestOutputTopic<String, RecoveryBudgetAnswer> answers;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private void start(String budgets) {
        StatusWriterConfig config = StatusWriterConfig.from(ConfigSource.of(Map.of("kdiag.state-dir", stateDir.toString(),
                "kdiag.topic-prefix", TOPICS.prefix()), Map.of()));
        Properties props = StatusWriter.arbiterProperties(config, Map.of(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092"));
        RecoveryBudgets parsed = RecoveryBudgets.parse(budgets);
        driver = new TopologyTestDriver(BudgetArbiterTopology.addTo(new Topology(), TOPICS, parsed, new BudgetMetrics(registry, parsed)),
                props, START);
        requests = driver.createInputTopic(TOPICS.recoveryBudgetRequests().name(), new StringSerializer(),
                TOPICS.recoveryBudgetRequests().valueSerde().serializer());
        answers = driver.createOutputTopic(TOPICS.recoveryBudgetAnswers().name(), TOPICS.recoveryBudgetAnswers().keySerde().deserializer(),
                TOPICS.recoveryBudgetAnswers().valueSerde().deserializer());
    }

    @AfterEach
    void closeDriver() {
        if (driver != null) {
            driver.close();
        }
    }

    private void send(RecoveryBudgetAction action, String uid, String node, String namespace) {
        requests.pipeInput(node, new RecoveryBudgetRequest(action, uid, node, namespace, SIGNAL, START));
    }

    private RecoveryBudgetAnswer ask(String uid, String node, String namespace) {
        send(RecoveryBudgetAction.Acquire, uid, node, namespace);
        List<RecoveryBudgetAnswer> out = answers.readValuesToList();
        assertThat(out).hasSize(1);
        return out.get(0);
    }

    private double gauge(String name, String budget) {
        return registry.get(name).tag("budget", budget).gauge().value();
    }

    @Test
    void shouldGrantUpToTheLimitPerWindowThenRefuseNamingTheBudgetUntilTheWindowSlides() {
        start("budgets: [{name: three-per-hour, per: [namespace], maxRecoveries: 3, window: 1h}]");

        for (int i = 0; i < 3; i++) {
            RecoveryBudgetAnswer granted = ask("uid-" + i, "node-" + i, "default");
            assertThat(granted.getVerdict()).isEqualTo(BudgetVerdict.Granted);
            assertThat(granted.getNode()).isEqualTo("node-" + i);
            assertThat(granted.getMessage()).isEqualTo("within three-per-hour namespace=default: " + (i + 1) + " of 3 recoveries per 1h");
        }
        RecoveryBudgetAnswer refused = ask("uid-3", "node-3", "default");
        assertThat(refused.getVerdict()).isEqualTo(BudgetVerdict.Exceeded);
        assertThat(refused.getBudget()).isEqualTo("three-per-hour");
        assertThat(refused.getMessage()).isEqualTo("budget three-per-hour namespace=default allows 3 recoveries per 1h (3 started in the last 1h)");
        // counted apart per namespace
        assertThat(ask("uid-4", "node-3", "other").getVerdict()).isEqualTo(BudgetVerdict.Granted);
        assertThat(gauge("kdiag.recovery.budget.usage", "three-per-hour")).isEqualTo(3.0);
        // a release frees no windowed count: the recovery started
        send(RecoveryBudgetAction.Release, "uid-0", "node-0", "default");
        assertThat(ask("uid-5", "node-5", "default").getVerdict()).isEqualTo(BudgetVerdict.Exceeded);

        driver.advanceWallClockTime(Duration.ofHours(1));

        assertThat(ask("uid-6", "node-6", "default").getVerdict()).isEqualTo(BudgetVerdict.Granted);
        assertThat(registry.get("kdiag.recovery.budget.answers").tag("verdict", "Exceeded").counter().count()).isEqualTo(2.0);
    }

    @Test
    void shouldLetAWaitingRecoveryRunWhenANodeReleasesItsSlot() {
        start("budgets: [{name: two-nodes, maxNodesInRecovery: 2, onExceeded: Wait}]\nmaxWait: 10m");
        assertThat(ask("a", "node-a", "default").getVerdict()).isEqualTo(BudgetVerdict.Granted);
        assertThat(ask("b", "node-b", "default").getVerdict()).isEqualTo(BudgetVerdict.Granted);

        RecoveryBudgetAnswer waiting = ask("c", "node-c", "default");
        assertThat(waiting.getVerdict()).isEqualTo(BudgetVerdict.Waiting);
        assertThat(waiting.getBudget()).isEqualTo("two-nodes");
        assertThat(waiting.getMessage()).isEqualTo(
                "budget two-nodes allows 2 nodes in recovery at once (in recovery now: node-a, node-b); waiting at most 10m");
        assertThat(registry.get("kdiag.recovery.budget.waiting").gauge().value()).isEqualTo(1.0);
        // asking again is no second request
        assertThat(ask("c", "node-c", "default").getVerdict()).isEqualTo(BudgetVerdict.Waiting);

        send(RecoveryBudgetAction.Release, "a", "node-a", "default");

        List<RecoveryBudgetAnswer> out = answers.readValuesToList();
        assertThat(out).extracting(RecoveryBudgetAnswer::getUid, RecoveryBudgetAnswer::getVerdict)
                .containsExactly(tuple("c", BudgetVerdict.Granted));
        assertThat(gauge("kdiag.recovery.budget.usage", "two-nodes")).isEqualTo(2.0);
        assertThat(registry.get("kdiag.recovery.budget.waiting").gauge().value()).isZero();
    }

    @Test
    void shouldRefuseAWaiterAfterMaxWaitAndFreeASlotNobodyGaveBackAfterReleaseAfter() {
        start("budgets: [{name: one-node, maxNodesInRecovery: 1, onExceeded: Wait}]\nmaxWait: 1m\nreleaseAfter: 5m");
        assertThat(ask("a", "node-a", "default").getVerdict()).isEqualTo(BudgetVerdict.Granted);
        assertThat(ask("b", "node-b", "default").getVerdict()).isEqualTo(BudgetVerdict.Waiting);

        driver.advanceWallClockTime(Duration.ofMinutes(1));

        List<RecoveryBudgetAnswer> expired = answers.readValuesToList();
        assertThat(expired).hasSize(1);
        assertThat(expired.get(0).getUid()).isEqualTo("b");
        assertThat(expired.get(0).getVerdict()).isEqualTo(BudgetVerdict.Exceeded);
        assertThat(expired.get(0).getMessage()).endsWith("; waited 1m (maxWait) without room");
        // node-a's agent never releases (it died while its recoverer ran): its slot is freed after releaseAfter
        assertThat(ask("c", "node-c", "default").getVerdict()).isEqualTo(BudgetVerdict.Waiting);
        driver.advanceWallClockTime(Duration.ofMinutes(4));
        assertThat(answers.readValuesToList()).extracting(RecoveryBudgetAnswer::getUid, RecoveryBudgetAnswer::getVerdict)
                .containsExactly(tuple("c", BudgetVerdict.Granted));
    }

    @Test
    void shouldFailWhenAnyFullBudgetFailsAndGrantWhatNoBudgetCovers() {
        start("""
                budgets:
                - {name: waits, maxNodesInRecovery: 1, onExceeded: Wait}
                - {name: fails, recoverers: [kube-diagnoser/signal-recoverer], maxRecoveries: 1, window: 1h}
                """);
        assertThat(ask("a", "node-a", "default").getVerdict()).isEqualTo(BudgetVerdict.Granted);

        RecoveryBudgetAnswer refused = ask("b", "node-b", "default");

        assertThat(refused.getVerdict()).isEqualTo(BudgetVerdict.Exceeded);
        assertThat(refused.getBudget()).isEqualTo("fails");
        requests.pipeInput("node-c", new RecoveryBudgetRequest(RecoveryBudgetAction.Acquire, "c", "node-c", "default",
                new NamespacedName("team", "restart"), START));
        assertThat(answers.readValuesToList()).extracting(RecoveryBudgetAnswer::getVerdict).containsExactly(BudgetVerdict.Waiting);
    }

    @Test
    void shouldAnswerAGrantedRecoveryAskedAgainWithoutCountingItTwice() {
        start("budgets: [{name: two-per-hour, maxRecoveries: 2, window: 1h}]");

        assertThat(ask("a", "node-a", "default").getVerdict()).isEqualTo(BudgetVerdict.Granted);
        assertThat(ask("a", "node-a", "default").getMessage()).isEqualTo("already granted");

        assertThat(ask("b", "node-b", "default").getVerdict()).isEqualTo(BudgetVerdict.Granted);
    }

    @Test
    void shouldIgnoreARequestNoAgentSends() {
        start("budgets: [{name: one-per-hour, maxRecoveries: 1, window: 1h}]");

        requests.pipeInput("node-a", new RecoveryBudgetRequest(RecoveryBudgetAction.Unknown, "a", "node-a", "default", SIGNAL, START));
        requests.pipeInput("node-a", new RecoveryBudgetRequest(RecoveryBudgetAction.Acquire, "", "node-a", "default", SIGNAL, START));

        assertThat(answers.readValuesToList()).isEmpty();
        assertThat(registry.get("kdiag.recovery.budget.requests.ignored").counter().count()).isEqualTo(2.0);
        assertThat(ask("a", "node-a", "default").getVerdict()).isEqualTo(BudgetVerdict.Granted);
    }

    @Test
    void shouldKeepTheLedgerInItsStoreAcrossARestart() {
        String budgets = "budgets: [{name: one-per-hour, maxRecoveries: 1, window: 1h}]";
        start(budgets);
        assertThat(ask("a", "node-a", "default").getVerdict()).isEqualTo(BudgetVerdict.Granted);
        byte[] kept = driver.<String, byte[]>getKeyValueStore(BudgetArbiterTopology.STORE_NAME).get(BudgetArbiterProcessor.LEDGER_KEY);

        BudgetLedger restored = BudgetLedger.decode(kept, RecoveryBudgets.parse(budgets));

        assertThat(restored.usage()).containsEntry("one-per-hour", 1);
        assertThat(restored.acquire(new BudgetLedger.Request("b", "node-b", "default", "kube-diagnoser", "signal-recoverer"),
                START.toEpochMilli()).get(0).verdict()).isEqualTo(BudgetVerdict.Exceeded);
        assertThat(restored.encode()).isEqualTo(kept);
    }

    @Test
    void shouldForgetTheWindowOfABudgetThatIsNoLongerWindowedUnderTheSameName() {
        start("budgets: [{name: signals, maxRecoveries: 1, window: 1h}]");
        assertThat(ask("a", "node-a", "default").getVerdict()).isEqualTo(BudgetVerdict.Granted);
        byte[] kept = driver.<String, byte[]>getKeyValueStore(BudgetArbiterTopology.STORE_NAME).get(BudgetArbiterProcessor.LEDGER_KEY);

        // the file changed between two starts: the same name now limits nodes at once
        BudgetLedger restored = BudgetLedger.decode(kept, RecoveryBudgets.parse("budgets: [{name: signals, maxNodesInRecovery: 2}]"));

        assertThat(restored.tick(START.toEpochMilli())).isEmpty();
        assertThat(restored.acquire(new BudgetLedger.Request("b", "node-b", "default", "kube-diagnoser", "signal-recoverer"),
                START.toEpochMilli()).get(0).verdict()).isEqualTo(BudgetVerdict.Granted);
    }
}
