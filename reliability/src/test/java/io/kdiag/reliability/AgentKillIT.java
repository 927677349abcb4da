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
import io.kdiag.nodeagent.Main;
import io.kdiag.schemas.Topics;
import io.kdiag.sourcebridge.SourceBridge;
import io.kdiag.statuswriter.StatusWriter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fault (a): the node agent, as its own JVM, is killed with SIGKILL in the middle of diagnoses and restarted, again and
 * again, while the bridge and the status writer keep running; on a broker that authenticates and authorises every
 * client as the cluster overlays do, each component logged in as its own user.
 */
class AgentKillIT {
    private static final Logger LOG = LoggerFactory.getLogger(AgentKillIT.class);
    private static final String NODE = "agent-kill-node";
    private static final int ABNORMALS = 24;
    /** Side-effect lines (collector + recoverer runs) after which each kill lands, always while a recoverer runs. */
    private static final List<Integer> KILLS_AT = List.of(3, 11, 19, 27);

    @TempDir
    Path dir;

    @Test
    void shouldEndEveryAbnormalOnceWhenTheAgentIsKilledRepeatedly() throws Exception {
        Path sideEffects = dir.resolve("side-effects");
        try (SecuredKafka kafka = SecuredKafka.startWithAcls(dir.resolve("broker"), Topics.withDefaultPrefix(), 12);
             Children children = new Children(dir)) {
            Map<String, String> env = new HashMap<>(Map.of("KDIAG_NODE_NAME", NODE, "KDIAG_STATE_DIR", dir.resolve("agent").toString(),
                    "KDIAG_KUBERNETES", "off", "KDIAG_HTTP_PORT", "0", "KDIAG_METRICS_PORT", "0", "KDIAG_CREATE_TOPICS", "false",
                    SideEffects.ENV, sideEffects.toString()));
            env.putAll(kafka.environment(Role.NODE_AGENT));
            env.putAll(Components.agentTrustEnvironment(dir.resolve("agent")));
            try (StatusWriter writer = Components.writer(kafka.settings(Role.STATUS_WRITER), dir.resolve("writer"), null);
                 SourceBridge bridge = Components.bridge(kafka.settings(Role.SOURCE_BRIDGE), new SimpleMeterRegistry());
                 KdiagClient client = KdiagClient.builder().kafka(kafka.settings(Role.CLI)).build()) {
                List<String> uids = new ArrayList<>();
                for (int i = 0; i < ABNORMALS; i++) {
                    uids.add(client.publish(Components.abnormal("agent-kill-" + i, NODE, true)));
                }
                int kills = 0;
                for (int runs : KILLS_AT) {
                    Process agent = children.start(Main.class, "agent", env);
                    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(10)).until(() -> {
                        List<String> lines = SideEffects.runs(sideEffects);
                        return lines.size() >= runs && lines.get(lines.size() - 1).endsWith(SideEffects.RECOVERER);
                    });
                    Children.kill(agent);
                    kills++;
                }
                children.start(Main.class, "agent", env);

                Invariants.Outcome outcome = Invariants.assertSurvived(client, uids, sideEffects, Duration.ofSeconds(80));

                assertThat(outcome.interrupted()).as("kills that landed in a recovery").isEqualTo(kills);
                assertThat(outcome.succeeded() + outcome.interrupted() + outcome.restarted()).isEqualTo(ABNORMALS);
                LOG.info("reliability figures test=agent-kill abnormals={} events={} kills={} succeeded={} recovery-interrupted={} "
                                + "agent-restarted={} recoverer-runs={}", ABNORMALS, outcome.events(), kills, outcome.succeeded(),
                        outcome.interrupted(), outcome.restarted(), outcome.recovererRuns());
            }
        }
    }
}
