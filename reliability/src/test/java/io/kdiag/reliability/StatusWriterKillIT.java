package io.kdiag.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.kdiag.client.KdiagClient;
import io.kdiag.common.kafka.KafkaAcls.Role;
import io.kdiag.model.Phases;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.schemas.Topics;
import io.kdiag.sourcebridge.SourceBridge;
import io.kdiag.statuswriter.Main;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fault (c): the status writer, as its own JVM, is killed with SIGKILL while events are being folded, and restarted
 * on the same state directory; its exactly-once fold must come back to exactly the statuses the events say. The
 * broker authenticates and authorises every client as the cluster overlays do, each component logged in as its own
 * user, so the fold's transactions and internal topics work with the status writer's grants only.
 */
class StatusWriterKillIT {
    private static final Logger LOG = LoggerFactory.getLogger(StatusWriterKillIT.class);
    private static final String NODE = "writer-kill-node";
    private static final int ABNORMALS = 30;
    /** Final statuses seen before each kill. */
    private static final List<Integer> KILLS_AT = List.of(6, 16);

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
    void shouldFoldEveryEventExactlyOnceAcrossKills() throws Exception {
        try (SecuredKafka kafka = SecuredKafka.startWithAcls(dir.resolve("broker"), Topics.withDefaultPrefix(), 12);
             Children children = new Children(dir)) {
            Map<String, String> env = new HashMap<>(kafka.environment(Role.STATUS_WRITER));
            env.putAll(Map.of("KDIAG_STATE_DIR", dir.resolve("writer").toString(),
                    "KDIAG_KUBERNETES", "off", "KDIAG_HTTP_PORT", "0", "KDIAG_METRICS_PORT", "0", "KDIAG_CREATE_TOPICS", "false",
                    // a killed member never leaves the group: let the broker notice it in seconds rather than 45 s
                    "KDIAG_KAFKA_SESSION_TIMEOUT_MS", "6000"));
            try (NodeAgent agent = Components.agent(kafka.settings(Role.NODE_AGENT), dir.resolve("agent"), NODE);
                 SourceBridge bridge = Components.bridge(kafka.settings(Role.SOURCE_BRIDGE), new SimpleMeterRegistry());
                 KdiagClient client = KdiagClient.builder().kafka(kafka.settings(Role.CLI)).build()) {
                List<String> uids = new ArrayList<>();
                for (int i = 0; i < ABNORMALS; i++) {
                    uids.add(client.publish(Components.abnormal("writer-kill-" + i, NODE, true)));
                }
                int kills = 0;
                for (int finals : KILLS_AT) {
                    Process writer = children.start(Main.class, "status-writer", env);
                    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> client.statuses().values()
                            .stream().filter(s -> Phases.isFinal(s.getPhase())).count() >= finals);
                    Children.kill(writer);
                    kills++;
                }
                children.start(Main.class, "status-writer", env);

                Invariants.Outcome outcome = Invariants.assertSurvived(client, uids, dir.resolve("side-effects"), Duration.ofSeconds(90));

                assertThat(outcome.succeeded()).as("every abnormal succeeded").isEqualTo(ABNORMALS);
                LOG.info("reliability figures test=status-writer-kill abnormals={} events={} kills={} succeeded={} recoverer-runs={}",
                        ABNORMALS, outcome.events(), kills, outcome.succeeded(), outcome.recovererRuns());
            }
        }
    }
}
