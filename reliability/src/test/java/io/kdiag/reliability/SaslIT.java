package io.kdiag.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import io.kdiag.client.KdiagClient;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.embedded.EmbeddedKafka;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Phase;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka with SASL/PLAIN authentication: the agent, the bridge and the status writer, each its own JVM, are configured
 * only through the pass-through variables (KDIAG_KAFKA_SECURITY_PROTOCOL, KDIAG_KAFKA_SASL_MECHANISM,
 * KDIAG_KAFKA_SASL_JAAS_CONFIG); an abnormal flows end to end, and the password appears in none of their output.
 */
class SaslIT {
    private static final String NODE = "sasl-node";
    private static final String PASSWORD = "Rel1ability-Secret-7f3a";
    private static final String JAAS = "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"kdiag\" password=\"%s\";";

    @TempDir
    Path dir;

    @Test
    void shouldRunThePipelineOverSaslWithoutLoggingThePassword() throws Exception {
        Map<String, String> broker = Map.of(
                "listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:SASL_PLAINTEXT",
                "sasl.enabled.mechanisms", "PLAIN",
                "sasl.mechanism.inter.broker.protocol", "PLAIN",
                "listener.name.plaintext.plain.sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required "
                        + "username=\"admin\" password=\"admin-" + PASSWORD + "\" user_admin=\"admin-" + PASSWORD + "\" user_kdiag=\"" + PASSWORD + "\";");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("broker"), 0, broker);
             Children children = new Children(dir)) {
            Map<String, Object> sasl = new HashMap<>(Map.of("bootstrap.servers", kafka.bootstrapServers(),
                    "security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "PLAIN", "sasl.jaas.config", JAAS.formatted(PASSWORD)));
            // the broker does enforce it: a wrong password is refused
            Map<String, Object> wrong = new HashMap<>(sasl);
            wrong.put("sasl.jaas.config", JAAS.formatted("wrong"));
            try (Admin admin = Admin.create(wrong)) {
                assertThatThrownBy(() -> admin.listTopics().names().get(30, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(SaslAuthenticationException.class);
            }
            TopicAdmin.ensureTopics(sasl, Topics.withDefaultPrefix(), 12, (short) 1);

            Map<String, String> common = Map.of("KDIAG_KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
                    "KDIAG_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT", "KDIAG_KAFKA_SASL_MECHANISM", "PLAIN",
                    "KDIAG_KAFKA_SASL_JAAS_CONFIG", JAAS.formatted(PASSWORD), "KDIAG_KUBERNETES", "off", "KDIAG_HTTP_PORT", "0",
                    "KDIAG_METRICS_PORT", "0",
                    // Kafka's clients print their whole configuration at INFO: exactly where a secret would leak
                    "KDIAG_TEST_LOG_LEVEL", "info");
            children.start(io.kdiag.statuswriter.Main.class, "status-writer", with(common, "KDIAG_STATE_DIR", dir.resolve("writer").toString()));
            Map<String, String> agent = new HashMap<>(with(with(with(common, "KDIAG_STATE_DIR", dir.resolve("agent").toString()),
                    "KDIAG_NODE_NAME", NODE), SideEffects.ENV, dir.resolve("side-effects").toString()));
            agent.putAll(Components.agentTrustEnvironment(dir.resolve("agent")));
            children.start(io.kdiag.nodeagent.Main.class, "agent", agent);
            Map<String, String> bridge = new HashMap<>(common);
            bridge.putAll(Components.bridgeTrustEnvironment());
            children.start(io.kdiag.sourcebridge.Main.class, "bridge", bridge);

            try (KdiagClient client = KdiagClient.builder().kafka(sasl).build()) {
                AbnormalStatus status = client.awaitFinalStatus(client.publish(Components.abnormal("over-sasl", NODE, false)),
                        Duration.ofSeconds(90)).orElseThrow(() -> new AssertionError("no final status over SASL"));

                assertThat(status.getPhase()).isEqualTo(Phase.Succeeded);
                assertThat(status.getOrigin().name()).isEqualTo("IngestTopic");
            }
            for (String child : new String[] {"status-writer", "agent", "bridge"}) {
                String output = children.output(child);
                assertThat(output).as("%s output", child).contains("sasl.jaas.config").doesNotContain(PASSWORD);
            }
        }
    }

    private static Map<String, String> with(Map<String, String> env, String key, String value) {
        Map<String, String> copy = new HashMap<>(env);
        copy.put(key, value);
        return copy;
    }
}
