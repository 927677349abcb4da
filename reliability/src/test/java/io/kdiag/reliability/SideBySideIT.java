package io.kdiag.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.client.KdiagClient;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.model.Phases;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.testkit.TestKafka;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.GroupListing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two installations with different topic prefixes on one broker, each with its bridge, status writer and an agent of
 * the same node, all under the same instance name (the host's): each runs its own abnormals and only those, and every consumer
 * group, transactional id and Streams topic on the broker belongs to one of the two prefixes. Sharing a group, the
 * two bridges would fence each other's static member; sharing a transactional id, the two status writers' budget
 * arbiters each other's transactions.
 */
class SideBySideIT {
    private static final String NODE = "shared-node";
    private static final List<String> PREFIXES = List.of("blue.", "green.");
    private static final int ABNORMALS = 5;

    @TempDir
    Path dir;

    @Test
    void shouldRunTwoInstallationsOnOneBrokerWithoutInterference() throws Exception {
        try (TestKafka kafka = TestKafka.start()) {
            String servers = kafka.bootstrapServers();
            List<AutoCloseable> running = new ArrayList<>();
            try {
                for (String prefix : PREFIXES) {
                    TopicAdmin.ensureTopics(Components.kafka(servers), new Topics(prefix), 3, (short) 1);
                    String[] settings = {"kdiag.topic-prefix", prefix};
                    running.add(Components.writer(Components.kafka(servers), dir.resolve(prefix + "writer"), null, settings));
                    running.add(Components.bridge(Components.kafka(servers), new SimpleMeterRegistry(), settings));
                    running.add(Components.agent(Components.kafka(servers), dir.resolve(prefix + "agent"), NODE, settings));
                }
                for (String prefix : PREFIXES) {
                    try (KdiagClient client = KdiagClient.builder().bootstrapServers(servers).topicPrefix(prefix).build()) {
                        List<String> uids = new ArrayList<>();
                        for (int i = 0; i < ABNORMALS; i++) {
                            AbnormalSpec spec = new AbnormalSpec();
                            spec.nodeName = NODE;
                            spec.skipRecovery = true;
                            uids.add(client.publish(Components.abnormal(prefix + i, "default", spec)));
                        }
                        Map<String, AbnormalStatus> statuses = Invariants.awaitFinal(client, uids, Duration.ofSeconds(90));
                        assertThat(statuses.values()).as(prefix).allSatisfy(s -> {
                            assertThat(s.getPhase()).isEqualTo(Phase.Succeeded);
                            assertThat(s.getName()).startsWith(prefix);
                        });
                        assertThat(client.statuses().values()).as("only %s's abnormals in its status topic", prefix)
                                .allSatisfy(s -> assertThat(s.getName()).startsWith(prefix))
                                .allSatisfy(s -> assertThat(Phases.isFinal(s.getPhase())).isTrue());
                    }
                }
                try (Admin admin = Admin.create(Map.of("bootstrap.servers", servers))) {
                    List<String> groups = admin.listGroups().all().get(30, TimeUnit.SECONDS).stream().map(GroupListing::groupId).toList();
                    assertThat(groups).isNotEmpty().allSatisfy(SideBySideIT::belongsToAnInstallation);
                    assertThat(groups).anyMatch(g -> g.startsWith("blue.")).anyMatch(g -> g.startsWith("green."));
                    Set<String> topics = admin.listTopics().names().get(30, TimeUnit.SECONDS);
                    assertThat(topics).allSatisfy(SideBySideIT::belongsToAnInstallation);
                    List<String> transactions = admin.listTransactions().all().get(30, TimeUnit.SECONDS).stream()
                            .map(t -> t.transactionalId()).toList();
                    // only the status writers' budget arbiters run transactions (the bridges forward without), once asked for budget
                    assertThat(transactions).allSatisfy(SideBySideIT::belongsToAnInstallation);
                }
            } finally {
                for (int i = running.size() - 1; i >= 0; i--) {
                    running.get(i).close();
                }
            }
        }
    }

    private static void belongsToAnInstallation(String name) {
        assertThat(PREFIXES).as("the installation of %s", name).anyMatch(name::startsWith);
    }
}
