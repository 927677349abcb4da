package io.kdiag.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.kdiag.api.v1.Abnormal;
import io.kdiag.client.KdiagClient;
import io.kdiag.client.KdiagException;
import io.kdiag.common.kafka.KafkaAcls.Role;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.schemas.Topics;
import io.kdiag.sourcebridge.SourceBridge;
import io.kdiag.statuswriter.StatusWriter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fault (b): the broker itself is stopped and started again on its data and its client port while abnormals are being
 * published, forwarded, diagnosed and folded; every component has to reconnect on its own, logging in again as its
 * own user: the broker authenticates and authorises every client as the cluster overlays do.
 */
class BrokerRestartIT {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerRestartIT.class);
    private static final String NODE = "broker-restart-node";
    private static final int ABNORMALS = 30;
    private static final int RESTARTS = 2;

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
    void shouldLoseNothingWhenTheBrokerRestartsUnderLoad() throws Exception {
        SecuredKafka kafka = SecuredKafka.startWithAcls(dir.resolve("broker"), Topics.withDefaultPrefix(), 12);
        String servers = kafka.bootstrapServers();
        ExecutorService publisher = Executors.newSingleThreadExecutor();
        List<String> uids = new CopyOnWriteArrayList<>();
        AtomicInteger retries = new AtomicInteger();
        try (StatusWriter writer = Components.writer(kafka.settings(Role.STATUS_WRITER), dir.resolve("writer"), null);
             NodeAgent agent = Components.agent(kafka.settings(Role.NODE_AGENT), dir.resolve("agent"), NODE);
             SourceBridge bridge = Components.bridge(kafka.settings(Role.SOURCE_BRIDGE), new SimpleMeterRegistry());
             KdiagClient client = KdiagClient.builder().kafka(kafka.settings(Role.CLI)).build()) {
            Future<?> load = publisher.submit(() -> {
                for (int i = 0; i < ABNORMALS; i++) {
                    // keep publishing across the restarts: a few abnormals ahead of the agent, no more
                    int ahead = i;
                    await().atMost(Duration.ofSeconds(90)).until(() -> SideEffects.runs(dir.resolve("side-effects")).size() >= ahead - 2);
                    Abnormal abnormal = Components.abnormal("broker-restart-" + i, NODE, true);
                    // the same uid on a retry: if the first attempt did reach Kafka, the bridge drops the second
                    abnormal.getMetadata().setUid(UUID.nameUUIDFromBytes(("broker-restart-" + i).getBytes()).toString());
                    while (true) {
                        try {
                            uids.add(client.publish(abnormal));
                            break;
                        } catch (KdiagException e) {
                            retries.incrementAndGet();
                        }
                    }
                }
                return null;
            });
            for (int restart = 1; restart <= RESTARTS; restart++) {
                int published = restart * ABNORMALS / (RESTARTS + 1);
                await().atMost(Duration.ofSeconds(60)).until(() -> uids.size() >= published
                        && SideEffects.runs(dir.resolve("side-effects")).size() >= published);
                kafka.restart();
                assertThat(kafka.bootstrapServers()).isEqualTo(servers);
            }
            load.get(120, TimeUnit.SECONDS);

            Invariants.Outcome outcome = Invariants.assertSurvived(client, uids, dir.resolve("side-effects"), Duration.ofSeconds(90));

            assertThat(uids).hasSize(ABNORMALS).doesNotHaveDuplicates();
            assertThat(outcome.succeeded()).as("every abnormal succeeded").isEqualTo(ABNORMALS);
            LOG.info("reliability figures test=broker-restart abnormals={} events={} broker-restarts={} publish-retries={} "
                    + "succeeded={} recoverer-runs={}", ABNORMALS, outcome.events(), RESTARTS, retries.get(), outcome.succeeded(),
                    outcome.recovererRuns());
        } finally {
            publisher.shutdownNow();
            kafka.close();
        }
    }
}
