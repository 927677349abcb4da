package io.kdiag.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import io.kdiag.client.KdiagClient;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.KafkaAcls;
import io.kdiag.common.kafka.KafkaAcls.Role;
import io.kdiag.common.kafka.KafkaNames;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.embedded.EmbeddedKafka;
import io.kdiag.model.Phases;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.schemas.DeadLetterHeaders;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.sourcebridge.SourceBridge;
import io.kdiag.sourcebridge.log.LogSource;
import io.kdiag.sourcebridge.log.LogSourceConfig;
import io.kdiag.statuswriter.StatusWriter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka authentication and authorisation as the cluster overlays ship them (DESIGN §6), on the in-JVM broker: every
 * role logs in with its own SASL/SCRAM-SHA-512 user, the broker runs the standard authoriser with nothing allowed by
 * default, and exactly {@link KafkaAcls}' set is applied through the Admin API. Each component then does its whole job
 * under its own principal (the bridge, a log source, an agent and the status writer, the CLI submitting and reading),
 * and every topic read or write the set does not grant is refused by the broker: an ingest producer cannot write
 * {@code kdiag.abnormals}, an agent cannot write {@code kdiag.abnormal-status}, and so on for every role and topic.
 *
 * <p>The broker's own listeners (controller and inter-broker) log in with SASL/PLAIN as the super user {@code admin},
 * which stands for the cluster operator; the clients under test use only SCRAM.
 */
class KafkaAclsIT {
    private static final String NODE = "acl-node";
    private static final String ADMIN_PASSWORD = "admin-" + UUID.randomUUID();
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final Topics TOPICS = Topics.withDefaultPrefix();
    private static final KafkaAcls ACLS = new KafkaAcls(TOPICS.prefix());
    private static final KafkaNames NAMES = new KafkaNames(TOPICS.prefix());
    private static final Map<Role, String> PASSWORDS = new EnumMap<>(Role.class);
    /** A grant left over from an earlier setup, which {@link KafkaAcls#apply} must remove. */
    private static final AclBinding STALE = new AclBinding(new ResourcePattern(ResourceType.TOPIC, TOPICS.abnormals().name(),
            PatternType.LITERAL), new AccessControlEntry(Role.NODE_AGENT.defaultPrincipal(), "*", AclOperation.WRITE, AclPermissionType.ALLOW));
    /** An operator's denial for the same principal, which {@link KafkaAcls#apply} must keep. */
    private static final AclBinding DENIAL = new AclBinding(new ResourcePattern(ResourceType.GROUP, "kdiag-other", PatternType.LITERAL),
            new AccessControlEntry(Role.NODE_AGENT.defaultPrincipal(), "*", AclOperation.READ, AclPermissionType.DENY));

    @TempDir
    static Path dir;
    static EmbeddedKafka kafka;
    static KafkaAcls.Applied applied;

    @BeforeAll
    static void startBrokerWithAuthorisation() throws Exception {
        String plainAdmin = "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\""
                + ADMIN_PASSWORD + "\" user_admin=\"" + ADMIN_PASSWORD + "\";";
        Map<String, String> broker = new HashMap<>();
        broker.put("listener.security.protocol.map", "CONTROLLER:SASL_PLAINTEXT,PLAINTEXT:SASL_PLAINTEXT");
        broker.put("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-512");
        broker.put("sasl.mechanism.inter.broker.protocol", "PLAIN");
        broker.put("sasl.mechanism.controller.protocol", "PLAIN");
        broker.put("listener.name.controller.sasl.enabled.mechanisms", "PLAIN");
        broker.put("listener.name.controller.plain.sasl.jaas.config", plainAdmin);
        broker.put("listener.name.plaintext.plain.sasl.jaas.config", plainAdmin);
        broker.put("listener.name.plaintext.scram-sha-512.sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        broker.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        broker.put("super.users", "User:admin");
        broker.put("allow.everyone.if.no.acl.found", "false");
        kafka = EmbeddedKafka.start(dir.resolve("broker"), 0, broker);

        try (Admin admin = Admin.create(adminSettings())) {
            List<UserScramCredentialUpsertion> users = new ArrayList<>();
            for (Role role : Role.values()) {
                PASSWORDS.put(role, role.name().toLowerCase() + "-" + UUID.randomUUID());
                users.add(new UserScramCredentialUpsertion(role.defaultUser(), new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096),
                        PASSWORDS.get(role)));
            }
            admin.alterUserScramCredentials(new ArrayList<>(users)).all().get(30, TimeUnit.SECONDS);
            // the operator creates the topics; no component may (KDIAG_CREATE_TOPICS=false in the overlays)
            TopicAdmin.ensureTopics(adminSettings(), TOPICS, 3, (short) 1);
            admin.createTopics(List.of(new NewTopic(NAMES.bridgeStateTopic(), 1, (short) 1)
                    .configs(Map.of("cleanup.policy", "compact,delete")))).all().get(30, TimeUnit.SECONDS);
            admin.createAcls(List.of(STALE, DENIAL)).all().get(30, TimeUnit.SECONDS);
            // ACLs reach the broker's authoriser through the metadata log; describeAcls answers from the same image
            await().atMost(WAIT).until(() -> admin.describeAcls(AclBindingFilter.ANY).values().get(30, TimeUnit.SECONDS)
                    .containsAll(List.of(STALE, DENIAL)));

            applied = KafkaAcls.apply(admin, ACLS.defaultBindings(), Duration.ofSeconds(30));
            await().atMost(WAIT).until(() -> new HashSet<>(admin.describeAcls(AclBindingFilter.ANY).values().get(30, TimeUnit.SECONDS))
                    .equals(expectedAcls()));
        }
        // every probe below reads one record, so an allowed read is seen as a record rather than as the absence of an error
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(adminSettings(), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (String topic : probedTopics()) {
                producer.send(new ProducerRecord<>(topic, 0, bytes("probe"), bytes("operator's record"))).get(30, TimeUnit.SECONDS);
            }
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

    /** The set, and the operator's denial that applying it keeps. */
    private static Set<AclBinding> expectedAcls() {
        Set<AclBinding> expected = new HashSet<>(ACLS.defaultBindings());
        expected.add(DENIAL);
        return expected;
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    private static Map<String, Object> adminSettings() {
        return new HashMap<>(Map.of("bootstrap.servers", kafka.bootstrapServers(), "security.protocol", "SASL_PLAINTEXT",
                "sasl.mechanism", "PLAIN", "sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required "
                        + "username=\"admin\" password=\"" + ADMIN_PASSWORD + "\";"));
    }

    /** The Kafka settings a component of {@code role} gets in the overlays: SCRAM-SHA-512 as its own user. */
    private static Map<String, Object> settings(Role role) {
        return new HashMap<>(Map.of("bootstrap.servers", kafka.bootstrapServers(), "security.protocol", "SASL_PLAINTEXT",
                "sasl.mechanism", "SCRAM-SHA-512", "sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required "
                        + "username=\"" + role.defaultUser() + "\" password=\"" + PASSWORDS.get(role) + "\";",
                "default.api.timeout.ms", 15_000, "max.block.ms", 15_000, "request.timeout.ms", 10_000));
    }

    private static List<String> probedTopics() {
        List<String> topics = new ArrayList<>(TOPICS.specs(3).stream().map(Topics.TopicSpec::name).toList());
        topics.add(NAMES.bridgeStateTopic());
        return topics;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Whether the set grants {@code role} the operation on the topic; the catalogue's topics are all literal grants. */
    private static boolean granted(Role role, String topic, AclOperation operation) {
        return ACLS.bindings(role, role.defaultPrincipal()).stream().anyMatch(b -> b.pattern().resourceType() == ResourceType.TOPIC
                && b.pattern().patternType() == PatternType.LITERAL && b.pattern().name().equals(topic) && b.entry().operation() == operation);
    }

    /** Writes one record as {@code role}: true if the broker took it, false if it refused the topic. */
    private static boolean writes(KafkaProducer<byte[], byte[]> producer, String topic) throws Exception {
        try {
            producer.send(new ProducerRecord<>(topic, 0, bytes("probe"), bytes("probe"))).get(30, TimeUnit.SECONDS);
            return true;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicAuthorizationException) {
                return false;
            }
            throw e;
        }
    }

    /** Reads the topic's first partition from its beginning as {@code role}: true once a record arrives, false if refused. */
    private static boolean reads(Role role, String topic) {
        Map<String, Object> settings = settings(role);
        settings.remove(ConsumerConfig.GROUP_ID_CONFIG);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(settings, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                try {
                    if (!consumer.poll(Duration.ofMillis(200)).isEmpty()) {
                        return true;
                    }
                } catch (TopicAuthorizationException e) {
                    return false;
                }
            }
            throw new AssertionError(role + " neither read a record of " + topic + " nor was refused within " + WAIT.toSeconds() + " s");
        }
    }

    @Test
    void shouldApplyExactlyTheSetRemovingStaleGrantsButNoDenialOfTheSamePrincipals() throws Exception {
        assertThat(applied.deleted()).containsExactly(STALE);
        assertThat(applied.created()).containsExactlyInAnyOrderElementsOf(ACLS.defaultBindings());
        try (Admin admin = Admin.create(adminSettings())) {
            assertThat(admin.describeAcls(AclBindingFilter.ANY).values().get(30, TimeUnit.SECONDS))
                    .containsExactlyInAnyOrderElementsOf(expectedAcls());
            KafkaAcls.Applied again = KafkaAcls.apply(admin, ACLS.defaultBindings(), Duration.ofSeconds(30));
            assertThat(again.created()).isEmpty();
            assertThat(again.deleted()).isEmpty();
        }
    }

    @Test
    void shouldRefuseEveryTopicReadAndWriteTheSetDoesNotGrant() throws Exception {
        Map<String, Boolean> observed = new HashMap<>();
        Map<String, Boolean> expected = new HashMap<>();
        for (Role role : Role.values()) {
            Map<String, Object> producerSettings = settings(role);
            // a plain producer: an idempotent one needs a Write grant somewhere before it sends anything at all
            producerSettings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
            producerSettings.put(ProducerConfig.ACKS_CONFIG, "all");
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerSettings, new ByteArraySerializer(), new ByteArraySerializer())) {
                for (String topic : probedTopics()) {
                    observed.put(role + " writes " + topic, writes(producer, topic));
                    expected.put(role + " writes " + topic, granted(role, topic, AclOperation.WRITE));
                    observed.put(role + " reads " + topic, reads(role, topic));
                    expected.put(role + " reads " + topic, granted(role, topic, AclOperation.READ));
                }
            }
        }
        assertThat(observed).isEqualTo(expected);
        // the ones the design names, spelled out
        assertThat(observed).containsEntry("INGEST writes kdiag.abnormals", false)
                .containsEntry("NODE_AGENT writes kdiag.abnormal-status", false)
                .containsEntry("NODE_AGENT writes kdiag.abnormals", false)
                .containsEntry("STATUS_WRITER writes kdiag.abnormals", false)
                .containsEntry("READER writes kdiag.abnormal-requests", false)
                .containsEntry("SOURCE_BRIDGE writes kdiag.abnormals", true)
                .containsEntry("LOG_SOURCE writes kdiag.abnormals", true)
                .containsEntry("NODE_AGENT writes kdiag.diagnosis-events", true)
                .containsEntry("STATUS_WRITER writes kdiag.abnormal-status", true)
                .containsEntry("INGEST writes kdiag.abnormal-requests", true);
    }

    @Test
    void shouldRefuseAnotherComponentsTransactionalIdsGroupsAndAnyAdministration() throws Exception {
        assertThat(initTransactionsRefused(Role.LOG_SOURCE, NAMES.bridgeTransactionalId("bridge-0"))).isTrue();
        assertThat(initTransactionsRefused(Role.NODE_AGENT, NAMES.logSourceTransactionalId(NODE))).isTrue();
        assertThat(initTransactionsRefused(Role.SOURCE_BRIDGE, NAMES.statusWriterApplicationId() + "-x-1")).isTrue();
        assertThat(initTransactionsRefused(Role.LOG_SOURCE, NAMES.logSourceTransactionalId("another-node"))).isFalse();

        // an agent may read kdiag.abnormals, but not as the bridge's group (or any group but its own)
        Map<String, Object> settings = settings(Role.NODE_AGENT);
        settings.put(ConsumerConfig.GROUP_ID_CONFIG, NAMES.bridgeGroup());
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(settings, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(TOPICS.abnormals().name()));
            assertThatThrownBy(() -> {
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (System.nanoTime() < deadline) {
                    consumer.poll(Duration.ofMillis(200));
                }
            }).isInstanceOf(GroupAuthorizationException.class);
        }

        for (Role role : Role.values()) {
            try (Admin admin = Admin.create(settings(role))) {
                assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic(TOPICS.prefix() + "sneaky", 1, (short) 1)))
                        .all().get(30, TimeUnit.SECONDS)).as(role + " creates a topic")
                        .hasCauseInstanceOf(TopicAuthorizationException.class);
                assertThatThrownBy(() -> admin.createAcls(List.of(new AclBinding(new ResourcePattern(ResourceType.TOPIC, TOPICS.abnormals().name(),
                        PatternType.LITERAL), new AccessControlEntry(role.defaultPrincipal(), "*", AclOperation.WRITE, AclPermissionType.ALLOW))))
                        .all().get(30, TimeUnit.SECONDS)).as(role + " grants itself kdiag.abnormals")
                        .hasCauseInstanceOf(ClusterAuthorizationException.class);
            }
        }
    }

    private static boolean initTransactionsRefused(Role role, String transactionalId) {
        Map<String, Object> settings = settings(role);
        settings.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(settings, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.initTransactions();
            return false;
        } catch (TransactionalIdAuthorizationException e) {
            return true;
        }
    }

    @Test
    void shouldRunThePipelineWithEachComponentUnderItsOwnPrincipal() throws Exception {
        System.setProperty(SideEffects.ENV, dir.resolve("side-effects").toString());
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, """
                grants:
                - origins: ["*"]
                  processors: [kube-diagnoser/reliability-collector]
                """);
        Path monitor = dir.resolve("kern-monitor.json");
        Files.writeString(monitor, """
                {"plugin": "filelog", "logPath": "/var/log/kern.log", "lookback": "5m", "bufferSize": 10, "source": "kernel-monitor",
                 "pluginConfig": {"timestamp": "^.{15}", "message": "kernel: \\\\[.*\\\\] (.*)", "timestampFormat": "Jan _2 15:04:05"},
                 "conditions": [], "rules": [{"type": "temporary", "reason": "OOMKilling", "pattern": "Killed process \\\\d+ (.+)"}]}""");
        Path log = dir.resolve("host/var/log/kern.log");
        Files.createDirectories(log.getParent());
        Files.writeString(log, "");
        Path templates = dir.resolve("templates.json");
        Files.writeString(templates, """
                {"templates": {"OOMKilling": {"assignedInformationCollectors": [{"namespace": "kube-diagnoser", "name": "reliability-collector"}],
                 "skipDiagnosis": true, "skipRecovery": true}}}""");

        StatusWriter writer = Components.writer(settings(Role.STATUS_WRITER), dir.resolve("writer"), null);
        try (NodeAgent agent = Components.agent(settings(Role.NODE_AGENT), dir.resolve("agent"), NODE, "kdiag.policy-file", policy.toString());
             SourceBridge bridge = Components.bridge(settings(Role.SOURCE_BRIDGE), new SimpleMeterRegistry());
             LogSource logSource = LogSource.start(LogSourceConfig.from(ConfigSource.of(Map.of("kdiag.node-name", NODE,
                     "kdiag.host-root", dir.resolve("host").toString(), "kdiag.log.state-dir", dir.resolve("log-state").toString(),
                     "kdiag.log.monitors", monitor.toString(), "kdiag.log.templates", templates.toString(),
                     "kdiag.log.poll-interval", "100ms", "kdiag.kubernetes", "off"), Map.of())),
                     settings(Role.LOG_SOURCE), new SimpleMeterRegistry(), null);
             KdiagClient cli = KdiagClient.builder().kafka(settings(Role.CLI)).build();
             KdiagClient ingest = KdiagClient.builder().kafka(settings(Role.INGEST)).build();
             KdiagClient reader = KdiagClient.builder().kafka(settings(Role.READER)).build()) {

            // the CLI submits and follows its abnormal: ingest topic → bridge → agent → status writer → status topic
            String submitted = cli.publish(Components.abnormal("acl-cli", NODE, false));
            AbnormalStatus status = cli.awaitFinalStatus(submitted, WAIT).orElseThrow(() -> new AssertionError("no final status for the CLI's abnormal"));
            assertThat(status.getPhase()).isEqualTo(Phase.Succeeded);
            assertThat(cli.history(submitted)).isNotEmpty();

            // a restarted status writer finds its internal topics, group and transactional ids as it left them
            writer.close();
            writer = Components.writer(settings(Role.STATUS_WRITER), dir.resolve("writer"), null);

            // a producer that may only write the ingest topic, and a reader that may only read
            String published = ingest.publish(Components.abnormal("acl-ingest", NODE, false));
            assertThat(reader.awaitFinalStatus(published, WAIT)).get().extracting(AbnormalStatus::getPhase).isEqualTo(Phase.Succeeded);
            assertThat(reader.history(published)).isNotEmpty();
            assertThatThrownBy(ingest::statuses).satisfies(e -> assertThat(causes(e)).hasAtLeastOneElementOfType(TopicAuthorizationException.class));

            // the log source forwards its node's log line through its own gate
            await().atMost(WAIT).until(() -> Files.list(dir.resolve("log-state")).anyMatch(f -> f.toString().endsWith(".checkpoint")));
            Files.writeString(log, "Mar  1 12:00:00 " + NODE + " kernel: [ 1234.567890] Out of memory: Killed process 1234 (java)\n",
                    StandardOpenOption.APPEND);
            AbnormalStatus fromLog = reader.awaitStatus(s -> s.getOrigin() == Origin.Log && Phases.isFinal(s.getPhase()), WAIT)
                    .orElseThrow(() -> new AssertionError("no final status for the log source's abnormal"));
            assertThat(fromLog.getPhase()).isEqualTo(Phase.Succeeded);

            // each writer of dead letters: the bridge (an unreadable ingest record), the agent (an unreadable abnormal, put
            // there by the operator, the only one besides the gates who can) and the status writer (an unreadable event)
            Map<String, Object> producerSettings = settings(Role.INGEST);
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerSettings, new ByteArraySerializer(), new ByteArraySerializer())) {
                producer.send(new ProducerRecord<>(TOPICS.abnormalRequests().name(), bytes(NODE), bytes("not a request"))).get(30, TimeUnit.SECONDS);
            }
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(adminSettings(), new ByteArraySerializer(), new ByteArraySerializer())) {
                producer.send(new ProducerRecord<>(TOPICS.abnormals().name(), bytes(NODE), bytes("not an abnormal"))).get(30, TimeUnit.SECONDS);
                producer.send(new ProducerRecord<>(TOPICS.diagnosisEvents().name(), bytes(NODE), bytes("not an event"))).get(30, TimeUnit.SECONDS);
            }
            await().atMost(WAIT).untilAsserted(() -> assertThat(deadLetterSources()).containsAll(Set.of(TOPICS.abnormalRequests().name(),
                    TOPICS.abnormals().name(), TOPICS.diagnosisEvents().name())));
        } finally {
            writer.close();
        }
    }

    private static List<Throwable> causes(Throwable e) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable t = e; t != null && !chain.contains(t); t = t.getCause()) {
            chain.add(t);
        }
        return chain;
    }

    /** The source topic of every dead letter, read as the operator. */
    private static Set<String> deadLetterSources() {
        Set<String> sources = new HashSet<>();
        Map<String, Object> settings = adminSettings();
        settings.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(settings, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition(TOPICS.deadLetters().name(), 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            while (consumer.position(partition) < end) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    Header source = record.headers().lastHeader(DeadLetterHeaders.SOURCE_TOPIC);
                    if (source != null) {
                        sources.add(new String(source.value(), StandardCharsets.UTF_8));
                    }
                }
            }
        }
        return sources;
    }
}
