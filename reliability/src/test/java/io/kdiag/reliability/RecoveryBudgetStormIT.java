package io.kdiag.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.client.KdiagClient;
import io.kdiag.common.kafka.KafkaAcls.Role;
import io.kdiag.model.Phases;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.BudgetChecked;
import io.kdiag.schemas.avro.BudgetVerdict;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.ProcessorStarted;
import io.kdiag.schemas.avro.RecoveryBudgetAnswer;
import io.kdiag.schemas.avro.RecoveryControl;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.sourcebridge.SourceBridge;
import io.kdiag.statuswriter.Main;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recoveries under control, across agents: a storm of 100 abnormals for one namespace, spread over three agents, of
 * which exactly the budgeted number recover, although the budget arbiter (the status writer, its own JVM) is killed
 * with SIGKILL in the middle of the storm and restarted; then a second storm that the kill switch stops; then a third
 * over a budget that waits, whose recoveries all run, one node at a time. The broker
 * authorises every client as the cluster overlays do, so an agent cannot answer its own budget request.
 */
class RecoveryBudgetStormIT {
    private static final Logger LOG = LoggerFactory.getLogger(RecoveryBudgetStormIT.class);
    private static final List<String> NODES = List.of("budget-node-a", "budget-node-b", "budget-node-c");
    private static final int STORM = 100;
    private static final int BUDGET = 10;
    /** Recoveries seen before the arbiter is killed. */
    private static final int KILL_AFTER = 4;
    private static final Duration WAIT = Duration.ofSeconds(120);

    @TempDir
    static Path dir;

    @BeforeAll
    static void sideEffects() {
        System.setProperty(SideEffects.ENV, dir.resolve("side-effects").toString());
    }

    @AfterAll
    static void clearSideEffects() {
        System.clearProperty(SideEffects.ENV);
    }

    @Test
    void shouldRecoverOnlyTheBudgetedNumberAcrossAgentsAndAnArbiterKillAndStopAtThePause() throws Exception {
        Path budgets = Files.writeString(dir.resolve("budgets.yml"), """
                budgets:
                - name: ten-per-namespace
                  recoverers: [kube-diagnoser/reliability-recoverer]
                  per: [namespace]
                  maxRecoveries: %d
                  window: 1h
                - name: one-node-at-a-time
                  namespaces: [waiting-storm]
                  maxNodesInRecovery: 1
                  onExceeded: Wait
                maxWait: 2m
                """.formatted(BUDGET));
        try (SecuredKafka kafka = SecuredKafka.startWithAcls(dir.resolve("broker"), Topics.withDefaultPrefix(), 12);
             Children children = new Children(dir)) {
            Map<String, String> env = new HashMap<>(kafka.environment(Role.STATUS_WRITER));
            env.putAll(Map.of("KDIAG_STATE_DIR", dir.resolve("writer").toString(), "KDIAG_KUBERNETES", "off", "KDIAG_HTTP_PORT", "0",
                    "KDIAG_METRICS_PORT", "0", "KDIAG_CREATE_TOPICS", "false", "KDIAG_RECOVERY_BUDGETS_FILE", budgets.toString(),
                    // a killed member never leaves the group: let the broker notice it in seconds rather than 45 s
                    "KDIAG_KAFKA_SESSION_TIMEOUT_MS", "6000"));
            List<NodeAgent> agents = new ArrayList<>();
            try (SourceBridge bridge = Components.bridge(kafka.settings(Role.SOURCE_BRIDGE), new SimpleMeterRegistry());
                 KdiagClient client = KdiagClient.builder().kafka(kafka.settings(Role.CLI)).build()) {
                for (String node : NODES) {
                    agents.add(Components.agent(kafka.settings(Role.NODE_AGENT), dir.resolve(node), node,
                            "kdiag.recovery-budgets-file", budgets.toString(), "kdiag.recovery-budget-timeout", "90s"));
                }
                assertAgentsCannotAnswer(kafka);
                Process arbiter = children.start(Main.class, "status-writer", env);

                // (a) the storm: 100 abnormals of one namespace over three nodes; the arbiter dies in the middle of it
                List<String> storm = publish(client, "storm", STORM);
                Path runs = dir.resolve("side-effects");
                await().atMost(WAIT).pollInterval(Duration.ofMillis(50)).until(() -> recoveries(runs, storm) >= KILL_AFTER);
                Children.kill(arbiter);
                LOG.info("arbiter killed after {} recoveries", recoveries(runs, storm));
                children.start(Main.class, "status-writer", env);
                Map<String, AbnormalStatus> ended = awaitFinal(client, storm);

                assertThat(recoveries(runs, storm)).as("recoverer runs in the storm").isEqualTo(BUDGET);
                Map<String, Long> outcomes = ended.values().stream().collect(Collectors.groupingBy(
                        s -> s.getPhase() + (s.getReason() == null ? "" : " " + s.getReason()), Collectors.counting()));
                assertThat(outcomes).isEqualTo(Map.of("Succeeded", (long) BUDGET, "Failed BudgetExceeded", (long) STORM - BUDGET));
                AbnormalStatus refused = ended.values().stream().filter(s -> s.getPhase() == Phase.Failed).findFirst().orElseThrow();
                assertThat(refused.getConditions()).anySatisfy(c -> {
                    assertThat(c.getType()).isEqualTo("Recovered");
                    assertThat(c.getMessage()).contains("budget ten-per-namespace namespace=storm allows 10 recoveries per 1h");
                });
                assertThat(events(client, storm).stream().map(DiagnosisEvent::getPayload).filter(BudgetChecked.class::isInstance)
                        .map(p -> ((BudgetChecked) p).getVerdict()).collect(Collectors.groupingBy(v -> v, Collectors.counting())))
                        .isEqualTo(Map.of(BudgetVerdict.Granted, (long) BUDGET, BudgetVerdict.Exceeded, (long) STORM - BUDGET));

                // (b) the kill switch in the middle of a second storm (another namespace, so a budget of its own)
                List<String> second = publish(client, "paused-storm", 40);
                await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> recoveries(runs, second) >= 1);
                Instant pausedAt = pause(kafka);
                Map<String, AbnormalStatus> secondEnded = awaitFinal(client, second);

                List<Instant> recovererStarts = events(client, second).stream()
                        .filter(e -> e.getPayload() instanceof ProcessorStarted p && p.getProcessor().getName().equals(SideEffects.RECOVERER))
                        .map(DiagnosisEvent::getTime).toList();
                // the kill switch promises every agent has the pause within a second
                assertThat(recovererStarts).allSatisfy(t -> assertThat(t).isBefore(pausedAt.plusSeconds(1)));
                long paused = secondEnded.values().stream().filter(s -> "RecoveryPaused".equals(s.getReason())).count();
                assertThat(paused).as("abnormals refused by the pause").isGreaterThanOrEqualTo(40 - BUDGET);
                assertThat(secondEnded.values()).allSatisfy(s -> assertThat(s.getPhase() == Phase.Succeeded
                        || "RecoveryPaused".equals(s.getReason())).as("%s %s", s.getPhase(), s.getReason()).isTrue());
                // (c) resumed, a storm over a budget that waits: every recovery runs, one node at a time, none holding its agent
                write(kafka, false);
                List<String> third = publish(client, "waiting-storm", 9);
                Map<String, AbnormalStatus> thirdEnded = awaitFinal(client, third);

                assertThat(thirdEnded.values()).allSatisfy(s -> assertThat(s.getPhase()).isEqualTo(Phase.Succeeded));
                List<DiagnosisEvent> thirdEvents = events(client, third);
                List<BudgetVerdict> verdicts = thirdEvents.stream().map(DiagnosisEvent::getPayload).filter(BudgetChecked.class::isInstance)
                        .map(p -> ((BudgetChecked) p).getVerdict()).toList();
                assertThat(verdicts).filteredOn(v -> v == BudgetVerdict.Granted).hasSize(third.size());
                assertThat(verdicts).contains(BudgetVerdict.Waiting);
                assertOneAtATime(thirdEvents);
                LOG.info("reliability figures test=recovery-budget-storm abnormals={} budget={} recoveries={} paused-storm={} "
                        + "recoveries-before-pause={} refused-by-pause={} waiting-storm={} waits={}", STORM, BUDGET, recoveries(runs, storm),
                        second.size(), recovererStarts.size(), paused, third.size(), verdicts.stream().filter(v -> v == BudgetVerdict.Waiting).count());
            } finally {
                agents.forEach(NodeAgent::close);
            }
        }
    }

    /** Publishes {@code count} abnormals of {@code namespace}, round robin over the nodes; returns their uids. */
    private static List<String> publish(KdiagClient client, String namespace, int count) {
        List<String> uids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            AbnormalSpec spec = new AbnormalSpec();
            spec.nodeName = NODES.get(i % NODES.size());
            spec.assignedInformationCollectors = List.of(SideEffects.COLLECTOR_REF);
            spec.assignedRecoverers = List.of(SideEffects.RECOVERER_REF);
            uids.add(client.publish(Components.abnormal(namespace + "-" + i, namespace, spec)));
        }
        return uids;
    }

    /** How many of these abnormals' recoverers ran, as the side-effect file says. */
    private static long recoveries(Path runs, List<String> uids) {
        return SideEffects.runs(runs).stream().filter(line -> line.endsWith(" " + SideEffects.RECOVERER))
                .filter(line -> uids.contains(line.split(" ")[0])).count();
    }

    private static Map<String, AbnormalStatus> awaitFinal(KdiagClient client, List<String> uids) {
        Map<String, AbnormalStatus> ended = new HashMap<>();
        await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> {
            Map<String, AbnormalStatus> statuses = client.statuses();
            uids.forEach(uid -> Optional.ofNullable(statuses.get(uid)).filter(s -> Phases.isFinal(s.getPhase())).ifPresent(s -> ended.put(uid, s)));
            return ended.size() == uids.size();
        });
        return ended;
    }

    /** Every recorded event of these abnormals. */
    private static List<DiagnosisEvent> events(KdiagClient client, List<String> uids) {
        Set<String> wanted = Set.copyOf(uids);
        List<DiagnosisEvent> events = new ArrayList<>();
        client.forEachEvent(e -> {
            if (wanted.contains(e.getAbnormalUid())) {
                events.add(e);
            }
        });
        return events;
    }

    /** Writes a pause as the CLI's user, and returns when Kafka took it. */
    private static Instant pause(SecuredKafka kafka) throws Exception {
        write(kafka, true);
        return Instant.now();
    }

    private static void write(SecuredKafka kafka, boolean paused) throws Exception {
        Topics topics = Topics.withDefaultPrefix();
        try (KafkaProducer<String, RecoveryControl> producer = new KafkaProducer<>(kafka.settings(Role.CLI),
                topics.recoveryControl().keySerde().serializer(), topics.recoveryControl().valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(topics.recoveryControl().name(), Topics.RECOVERY_CONTROL_KEY,
                    new RecoveryControl(paused, "User:kdiag-cli", Instant.now(), "storm drill"))).get(30, TimeUnit.SECONDS);
        }
    }

    /** No two recoverers ran at the same time: each started after the previous one finished. */
    private static void assertOneAtATime(List<DiagnosisEvent> events) {
        List<Instant[]> runs = new ArrayList<>();
        Map<String, Instant> started = new HashMap<>();
        for (DiagnosisEvent e : events) {
            if (e.getPayload() instanceof ProcessorStarted p && p.getStage() == Stage.Recovery) {
                started.put(e.getAbnormalUid(), e.getTime());
            } else if (e.getPayload() instanceof ProcessorFinished p && p.getStage() == Stage.Recovery) {
                runs.add(new Instant[] {started.get(e.getAbnormalUid()), e.getTime()});
            }
        }
        runs.sort(Comparator.comparing(r -> r[0]));
        for (int i = 1; i < runs.size(); i++) {
            assertThat(runs.get(i)[0]).as("recoverer %d started after recoverer %d finished", i, i - 1).isAfterOrEqualTo(runs.get(i - 1)[1]);
        }
    }

    /** The broker refuses an answer written by an agent's user: only the arbiter grants. */
    private static void assertAgentsCannotAnswer(SecuredKafka kafka) {
        Topics topics = Topics.withDefaultPrefix();
        Map<String, Object> settings = kafka.settings(Role.NODE_AGENT);
        settings.put("max.block.ms", 10_000);
        try (KafkaProducer<String, RecoveryBudgetAnswer> producer = new KafkaProducer<>(settings,
                topics.recoveryBudgetAnswers().keySerde().serializer(), topics.recoveryBudgetAnswers().valueSerde().serializer())) {
            RecoveryBudgetAnswer forged = new RecoveryBudgetAnswer("forged", NODES.get(0), new NamespacedName("kube-diagnoser",
                    SideEffects.RECOVERER), BudgetVerdict.Granted, null, "granted by myself", Instant.now());
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>(topics.recoveryBudgetAnswers().name(), NODES.get(0), forged))
                    .get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(TopicAuthorizationException.class);
        }
    }
}
