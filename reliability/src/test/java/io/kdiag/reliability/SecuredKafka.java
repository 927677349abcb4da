package io.kdiag.reliability;

import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import io.kdiag.common.kafka.KafkaAcls;
import io.kdiag.common.kafka.KafkaNames;
import io.kdiag.common.kafka.KafkaAcls.Role;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.embedded.EmbeddedKafka;
import io.kdiag.schemas.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;

/**
 * A broker in this JVM set up as the cluster overlays set up theirs: every client logs in (SASL/SCRAM-SHA-512, one user
 * per {@link Role}), the standard authoriser allows nothing an ACL does not grant, and the operator (user {@code admin},
 * a super user over SASL/PLAIN) has created the catalogue's topics, as {@code KDIAG_CREATE_TOPICS=false} expects.
 */
final class SecuredKafka implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(90);

    private final Path dataDir;
    private final Map<String, String> brokerSettings;
    private final String adminPassword;
    private final Map<Role, String> passwords;
    private EmbeddedKafka broker;

    private SecuredKafka(Path dataDir, Map<String, String> brokerSettings, String adminPassword, Map<Role, String> passwords) {
        this.dataDir = dataDir;
        this.brokerSettings = brokerSettings;
        this.adminPassword = adminPassword;
        this.passwords = passwords;
        this.broker = EmbeddedKafka.start(dataDir, 0, brokerSettings);
    }

    /**
     * Starts the broker, creates a user per role and the topics of {@code topics} (and the gates' state topic), and
     * waits until every user can log in. No ACL yet: the caller applies them, or {@link #startWithAcls} does.
     */
    static SecuredKafka start(Path dataDir, Topics topics, int partitions) throws Exception {
        String adminPassword = "admin-" + UUID.randomUUID();
        String plainAdmin = "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\""
                + adminPassword + "\" user_admin=\"" + adminPassword + "\";";
        Map<String, String> settings = new HashMap<>();
        settings.put("listener.security.protocol.map", "CONTROLLER:SASL_PLAINTEXT,PLAINTEXT:SASL_PLAINTEXT");
        settings.put("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-512");
        settings.put("sasl.mechanism.inter.broker.protocol", "PLAIN");
        settings.put("sasl.mechanism.controller.protocol", "PLAIN");
        settings.put("listener.name.controller.sasl.enabled.mechanisms", "PLAIN");
        settings.put("listener.name.controller.plain.sasl.jaas.config", plainAdmin);
        settings.put("listener.name.plaintext.plain.sasl.jaas.config", plainAdmin);
        settings.put("listener.name.plaintext.scram-sha-512.sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        settings.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        settings.put("super.users", "User:admin");
        settings.put("allow.everyone.if.no.acl.found", "false");
        Map<Role, String> passwords = new EnumMap<>(Role.class);
        for (Role role : Role.values()) {
            passwords.put(role, role.name().toLowerCase() + "-" + UUID.randomUUID());
        }
        SecuredKafka kafka = new SecuredKafka(dataDir, settings, adminPassword, passwords);
        try {
            kafka.createUsersAndTopics(topics, partitions);
        } catch (Exception | AssertionError e) {
            kafka.close();
            throw e;
        }
        return kafka;
    }

    private void createUsersAndTopics(Topics topics, int partitions) throws Exception {
        try (Admin admin = Admin.create(adminSettings())) {
            List<UserScramCredentialAlteration> users = new ArrayList<>();
            for (Role role : Role.values()) {
                users.add(new UserScramCredentialUpsertion(role.defaultUser(), new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096),
                        passwords.get(role)));
            }
            admin.alterUserScramCredentials(users).all().get(30, TimeUnit.SECONDS);
            TopicAdmin.ensureTopics(adminSettings(), topics, partitions, (short) 1);
            admin.createTopics(List.of(new NewTopic(new KafkaNames(topics.prefix()).bridgeStateTopic(), 1, (short) 1)
                    .configs(Map.of("cleanup.policy", "compact,delete")))).all().get(30, TimeUnit.SECONDS);
        }
        for (Role role : Role.values()) {
            // SCRAM credentials reach the broker through the metadata log, shortly after the call returns
            await().atMost(WAIT).ignoreExceptions().until(() -> {
                try (Admin admin = Admin.create(settings(role))) {
                    return admin.describeCluster().clusterId().get(10, TimeUnit.SECONDS) != null;
                }
            });
        }
    }

    /** {@link #start} with {@code KafkaAcls}' set for the default users applied, and in force once this returns. */
    static SecuredKafka startWithAcls(Path dataDir, Topics topics, int partitions) throws Exception {
        SecuredKafka kafka = start(dataDir, topics, partitions);
        try {
            kafka.applyAcls(new KafkaAcls(topics.prefix()).defaultBindings());
        } catch (Exception | AssertionError e) {
            kafka.close();
            throw e;
        }
        return kafka;
    }

    /** Makes {@code bindings} the principals' grants and waits until the authoriser holds them. */
    private void applyAcls(List<AclBinding> bindings) {
        try (Admin admin = Admin.create(adminSettings())) {
            KafkaAcls.apply(admin, bindings, Duration.ofSeconds(30));
            // ACLs reach the broker's authoriser through the metadata log; describeAcls answers from the same image
            await().atMost(WAIT).until(() -> new HashSet<>(admin.describeAcls(AclBindingFilter.ANY).values().get(30, TimeUnit.SECONDS))
                    .containsAll(bindings));
        }
    }

    /**
     * Stops the broker and starts it again on the same data and client port: users, ACLs and topics are in its
     * metadata log, so they come back with it.
     */
    void restart() {
        String servers = bootstrapServers();
        broker.close();
        broker = EmbeddedKafka.start(dataDir, Integer.parseInt(servers.substring(servers.lastIndexOf(':') + 1)), brokerSettings);
    }

    String bootstrapServers() {
        return broker.bootstrapServers();
    }

    /** The operator's settings: the super user. */
    Map<String, Object> adminSettings() {
        return new HashMap<>(Map.of("bootstrap.servers", bootstrapServers(), "security.protocol", "SASL_PLAINTEXT",
                "sasl.mechanism", "PLAIN", "sasl.jaas.config", adminJaas()));
    }

    String adminJaas() {
        return "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"" + adminPassword + "\";";
    }

    /** The Kafka settings a component of {@code role} gets in the overlays: SCRAM-SHA-512 as its own user. */
    Map<String, Object> settings(Role role) {
        return new HashMap<>(Map.of("bootstrap.servers", bootstrapServers(), "security.protocol", "SASL_PLAINTEXT",
                "sasl.mechanism", "SCRAM-SHA-512", "sasl.jaas.config", jaas(role)));
    }

    /** The same for a component run as a process: its {@code KDIAG_KAFKA_*} environment. */
    Map<String, String> environment(Role role) {
        return Map.of("KDIAG_KAFKA_BOOTSTRAP_SERVERS", bootstrapServers(), "KDIAG_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT",
                "KDIAG_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512", "KDIAG_KAFKA_SASL_JAAS_CONFIG", jaas(role));
    }

    private String jaas(Role role) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + role.defaultUser() + "\" password=\""
                + passwords.get(role) + "\";";
    }

    @Override
    public void close() {
        broker.close();
    }
}
