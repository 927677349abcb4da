package io.kdiag.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.client.KdiagClient;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.KafkaAcls;
import io.kdiag.common.kafka.KafkaNames;
import io.kdiag.common.kafka.KafkaAcls.Role;
import io.kdiag.model.Phases;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.schemas.DeadLetterHeaders;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.schemas.signing.SigningKey;
import io.kdiag.sourcebridge.SourceBridge;
import io.kdiag.sourcebridge.log.LogSource;
import io.kdiag.sourcebridge.log.LogSourceConfig;
import io.kdiag.statuswriter.StatusWriter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
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
import org.apache.kafka.common.header.internals.RecordHeaders;
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
    /** The node of the forgeries: an agent of its own, so nothing of the other tests is in its partition's way. */
    private static final String TRUST_NODE = "trust-node";
    private static final Duration WAIT = SecuredKafka.WAIT;
    private static final Topics TOPICS = Topics.withDefaultPrefix();
    private static final KafkaAcls ACLS = new KafkaAcls(TOPICS.prefix());
    private static final KafkaNames NAMES = new KafkaNames(TOPICS.prefix());
    /** A grant left over from an earlier setup, which {@link KafkaAcls#apply} must remove. */
    private static final AclBinding STALE = new AclBinding(new ResourcePattern(ResourceType.TOPIC, TOPICS.abnormals().name(),
            PatternType.LITERAL), new AccessControlEntry(Role.NODE_AGENT.defaultPrincipal(), "*", AclOperation.WRITE, AclPermissionType.ALLOW));
    /** An operator's denial for the same principal, which {@link KafkaAcls#apply} must keep. */
    private static final AclBinding DENIAL = new AclBinding(new ResourcePattern(ResourceType.GROUP, "kdiag-other", PatternType.LITERAL),
            new AccessControlEntry(Role.NODE_AGENT.defaultPrincipal(), "*", AclOperation.READ, AclPermissionType.DENY));

    @TempDir
    static Path dir;
    static SecuredKafka kafka;
    /** What {@code kdiag acls --apply} printed in the set-up. */
    static String appliedFirst;

    @BeforeAll
    static void startBrokerWithAuthorisation() throws Exception {
        kafka = SecuredKafka.start(dir.resolve("broker"), TOPICS, 3);
        try (Admin admin = Admin.create(adminSettings())) {
            admin.createAcls(List.of(STALE, DENIAL)).all().get(30, TimeUnit.SECONDS);
            // ACLs reach the broker's authoriser through the metadata log; describeAcls answers from the same image
            await().atMost(WAIT).until(() -> admin.describeAcls(AclBindingFilter.ANY).values().get(30, TimeUnit.SECONDS)
                    .containsAll(List.of(STALE, DENIAL)));

            // as an operator applies them to an external Kafka: the CLI, logged in as the cluster admin
            appliedFirst = cli("acls-apply-first", "acls", "--apply");
            await().atMost(WAIT).until(() -> new HashSet<>(admin.describeAcls(AclBindingFilter.ANY).values().get(30, TimeUnit.SECONDS))
                    .equals(expectedAcls()));
        }
        // every probe below reads one record, so an allowed read is seen as a record rather than as the absence of an error
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(adminSettings(), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (String topic : probedTopics()) {
                producer.send(new ProducerRecord<>(topic, 0, bytes("probe"), bytes("operator's record"))).get(30, TimeUnit.SECONDS);
            }
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
        return kafka.adminSettings();
    }

    /** The Kafka settings of {@code role}, with timeouts short enough that a refusal shows within {@link #WAIT}. */
    private static Map<String, Object> settings(Role role) {
        Map<String, Object> settings = kafka.settings(role);
        settings.putAll(Map.of("default.api.timeout.ms", 15_000, "max.block.ms", 15_000, "request.timeout.ms", 10_000));
        return settings;
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

    /**
     * Runs {@code kdiag} with these arguments in a JVM of its own, logged in as the cluster admin through the
     * environment, as an operator runs it; returns what it printed once it exited 0.
     */
    private static String cli(String name, String... args) throws Exception {
        Map<String, String> env = Map.of("KDIAG_HOME", dir.resolve("cli-home").toString(),
                "KDIAG_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT", "KDIAG_KAFKA_SASL_MECHANISM", "PLAIN",
                "KDIAG_KAFKA_SASL_JAAS_CONFIG", kafka.adminJaas());
        List<String> arguments = new ArrayList<>(List.of("--bootstrap-server", kafka.bootstrapServers()));
        arguments.addAll(List.of(args));
        try (Children children = new Children(Files.createDirectories(dir.resolve("cli")))) {
            Process process = children.start(KdiagCli.class, name, env, arguments.toArray(String[]::new));
            assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("kdiag %s ended", arguments).isTrue();
            assertThat(process.exitValue()).as("exit code of kdiag %s:%n%s", arguments, children.output(name)).isZero();
            return children.output(name);
        }
    }

    @Test
    void shouldApplyExactlyTheSetRemovingStaleGrantsButNoDenialOfTheSamePrincipals() throws Exception {
        int set = ACLS.defaultBindings().size();
        assertThat(appliedFirst).contains("acl \"" + KafkaAcls.format(List.of(STALE)).strip() + "\" deleted")
                .contains(set + " created, 1 deleted, 0 unchanged (prefix kdiag.)");
        for (String line : KafkaAcls.format(ACLS.defaultBindings()).lines().toList()) {
            assertThat(appliedFirst).contains("acl \"" + line + "\" created");
        }
        try (Admin admin = Admin.create(adminSettings())) {
            assertThat(admin.describeAcls(AclBindingFilter.ANY).values().get(30, TimeUnit.SECONDS))
                    .containsExactlyInAnyOrderElementsOf(expectedAcls());
        }
        assertThat(cli("acls-apply-again", "acls", "--apply")).contains("0 created, 0 deleted, " + set + " unchanged (prefix kdiag.)")
                .doesNotContain("\" created").doesNotContain("\" deleted");
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
                .containsEntry("INGEST writes kdiag.abnormal-requests", true)
                // the recovery kill switch: a person's, never a component's nor an ingest producer's
                .containsEntry("CLI writes kdiag.recovery-control", true)
                .containsEntry("NODE_AGENT writes kdiag.recovery-control", false)
                .containsEntry("INGEST writes kdiag.recovery-control", false)
                .containsEntry("NODE_AGENT reads kdiag.recovery-control", true)
                // decisions on recoveries waiting for approval: an approver's, or a relay's passing on a Kubernetes
                // user's (the status writer over HTTP, the bridge for annotations), read by the agents
                .containsEntry("APPROVER writes kdiag.approvals", true)
                .containsEntry("STATUS_WRITER writes kdiag.approvals", true)
                .containsEntry("SOURCE_BRIDGE writes kdiag.approvals", true)
                .containsEntry("CLI writes kdiag.approvals", false)
                .containsEntry("NODE_AGENT writes kdiag.approvals", false)
                .containsEntry("NODE_AGENT reads kdiag.approvals", true);
    }

    @Test
    void shouldRefuseAnotherComponentsTransactionalIdsGroupsAndAnyAdministration() throws Exception {
        // only the status writer runs transactions (its budget arbiter, exactly once); the gates forward without
        for (Role role : List.of(Role.SOURCE_BRIDGE, Role.LOG_SOURCE, Role.NODE_AGENT)) {
            assertThat(initTransactionsRefused(role, NAMES.statusWriterApplicationId() + "-x-1")).as(role.name()).isTrue();
        }
        assertThat(initTransactionsRefused(Role.STATUS_WRITER, NAMES.statusWriterApplicationId() + "-x-1")).isFalse();

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
        try (NodeAgent agent = Components.agent(settings(Role.NODE_AGENT), dir.resolve("agent"), NODE, "kdiag.policy-file", policy.toString(),
                "kdiag.log-source-verification-keys", dir.resolve("log-state/signing-key.pub").toString());
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

    /**
     * The second lock on {@code kdiag.abnormals}: whoever else can write there (a compromised node's log source
     * login, here) cannot get anything run. Records forged with the origin a policy trusts most, unsigned, altered,
     * signed with an unknown key, replayed from another node, or signed with the node's own log source key for an origin
     * other than Log are dead-lettered with the reason and counted, and nothing of them runs; what the bridge signed runs.
     */
    @Test
    void shouldRunOnlyWhatTheGatesSignedAndDeadLetterEveryForgery() throws Exception {
        Path sideEffects = dir.resolve("trust-side-effects");
        System.setProperty(SideEffects.ENV, sideEffects.toString());
        Path policy = Files.writeString(dir.resolve("trust-policy.yaml"), """
                grants:
                - origins: ["*"]
                  processors: [kube-diagnoser/reliability-collector, kube-diagnoser/reliability-recoverer]
                """);
        // the log source of this node, with the key it makes for itself
        SigningKey logSourceKey = SigningKey.readOrCreate(dir.resolve("trust-log-source/signing-key.pem"),
                dir.resolve("trust-log-source/signing-key.pub"));
        SimpleMeterRegistry agentMeters = new SimpleMeterRegistry();
        StatusWriter writer = Components.writer(settings(Role.STATUS_WRITER), dir.resolve("trust-writer"), null);
        try (NodeAgent agent = Components.agent(settings(Role.NODE_AGENT), dir.resolve("trust-agent"), TRUST_NODE, agentMeters,
                "kdiag.policy-file", policy.toString(),
                "kdiag.log-source-verification-keys", dir.resolve("trust-log-source/signing-key.pub").toString());
             SourceBridge bridge = Components.bridge(settings(Role.SOURCE_BRIDGE), new SimpleMeterRegistry());
             KdiagClient cli = KdiagClient.builder().kafka(settings(Role.CLI)).build();
             KafkaProducer<byte[], byte[]> compromised = plainProducer(Role.LOG_SOURCE)) {
            String legit = cli.publish(Components.abnormal("trust-legit", TRUST_NODE, true));
            assertThat(cli.awaitFinalStatus(legit, WAIT)).get().extracting(AbnormalStatus::getPhase).isEqualTo(Phase.Succeeded);
            String ofAnotherNode = cli.publish(Components.abnormal("trust-elsewhere", "trust-other-node", true));
            ConsumerRecord<byte[], byte[]> signedForUs = signedRecordOf(legit);
            ConsumerRecord<byte[], byte[]> signedForOther = signedRecordOf(ofAnotherNode);

            Map<String, String> forgeries = new LinkedHashMap<>();
            // the origin the shipped policy trusts most, with no signature at all
            send(compromised, forged("forged-unsigned", Origin.CustomResource), new RecordHeaders());
            forgeries.put("forged-unsigned", "Unsigned");
            // the bridge's signature of the legitimate record, over a value with a forged origin
            send(compromised, forged("forged-altered", Origin.CustomResource), signedForUs.headers());
            forgeries.put("forged-altered", "BadSignature");
            // signed, but by a key nobody trusts
            AbnormalRequest strangers = forged("forged-unknown-key", Origin.CustomResource);
            RecordHeaders strangerSignature = new RecordHeaders();
            SigningKey.generate().sign(bytes(TRUST_NODE), encode(strangers), strangerSignature);
            send(compromised, strangers, strangerSignature);
            forgeries.put("forged-unknown-key", "UnknownKey");
            // another node's record as the bridge signed it, value and signature untouched, moved under this node's key
            compromised.send(new ProducerRecord<>(TOPICS.abnormals().name(), null, bytes(TRUST_NODE), signedForOther.value(),
                    signedForOther.headers())).get(30, TimeUnit.SECONDS);
            forgeries.put(ofAnotherNode, "BadSignature");
            // this node's own log source key, passing off a custom resource
            AbnormalRequest escalated = forged("forged-by-log-source", Origin.CustomResource);
            RecordHeaders logSourceSignature = new RecordHeaders();
            logSourceKey.sign(bytes(TRUST_NODE), encode(escalated), logSourceSignature);
            send(compromised, escalated, logSourceSignature);
            forgeries.put("forged-by-log-source", "OriginNotAllowed");
            // while the same key signing a Log abnormal is the log source's legitimate path
            AbnormalRequest fromLog = forged("log-line", Origin.Log);
            RecordHeaders logSignature = new RecordHeaders();
            logSourceKey.sign(bytes(TRUST_NODE), encode(fromLog), logSignature);
            send(compromised, fromLog, logSignature);

            // records of a partition are handled in order: once this one ended, every forgery before it was handled
            String after = cli.publish(Components.abnormal("trust-after", TRUST_NODE, true));
            assertThat(cli.awaitFinalStatus(after, WAIT)).get().extracting(AbnormalStatus::getPhase).isEqualTo(Phase.Succeeded);
            assertThat(cli.awaitFinalStatus("log-line", WAIT)).get().extracting(AbnormalStatus::getPhase).isEqualTo(Phase.Succeeded);

            await().atMost(WAIT).untilAsserted(() -> assertThat(deadLetterReasons(TRUST_NODE))
                    .containsExactlyInAnyOrderElementsOf(forgeries.values()));
            for (String uid : forgeries.keySet()) {
                assertThat(cli.history(uid, TRUST_NODE)).as("events of %s", uid).isEmpty();
                assertThat(SideEffects.runs(sideEffects)).as("runs of %s", uid).noneMatch(run -> run.startsWith(uid + " "));
            }
            assertThat(SideEffects.runs(sideEffects)).contains(legit + " " + SideEffects.COLLECTOR, legit + " " + SideEffects.RECOVERER,
                    after + " " + SideEffects.RECOVERER, "log-line " + SideEffects.COLLECTOR);
            assertThat(agentMeters.get("kdiag.agent.records.refused").counters())
                    .extracting(c -> c.getId().getTag("reason") + "=" + (int) c.count())
                    .containsExactlyInAnyOrder("Unsigned=1", "BadSignature=2", "UnknownKey=1", "OriginNotAllowed=1", "NodeMismatch=0");
        } finally {
            writer.close();
            System.clearProperty(SideEffects.ENV);
        }
    }

    /** A request for {@link #TRUST_NODE} running the side-effect collector and recoverer. */
    private static AbnormalRequest forged(String uid, Origin origin) {
        AbnormalSpec spec = Components.abnormal(uid, TRUST_NODE, true).getSpec();
        return AbnormalRequest.newBuilder().setUid(uid).setNamespace("default").setName(uid).setNodeName(TRUST_NODE)
                .setOrigin(origin).setRequestedAt(Instant.now()).setSpec(ApiSerialization.json(spec)).setLabels(Map.of()).build();
    }

    private static byte[] encode(AbnormalRequest request) {
        return TOPICS.abnormals().valueSerde().serializer().serialize(TOPICS.abnormals().name(), request);
    }

    private static void send(KafkaProducer<byte[], byte[]> producer, AbnormalRequest request, Iterable<Header> headers) throws Exception {
        producer.send(new ProducerRecord<>(TOPICS.abnormals().name(), null, bytes(TRUST_NODE), encode(request), headers))
                .get(30, TimeUnit.SECONDS);
    }

    private static KafkaProducer<byte[], byte[]> plainProducer(Role role) {
        Map<String, Object> producerSettings = settings(role);
        producerSettings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        producerSettings.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(producerSettings, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** The bridge's record of {@code uid} on kdiag.abnormals, read as the operator. */
    private static ConsumerRecord<byte[], byte[]> signedRecordOf(String uid) {
        return await().atMost(WAIT).until(() -> read(TOPICS.abnormals().name()).stream()
                .filter(r -> uid.equals(uidOf(r))).findFirst(), Optional::isPresent).orElseThrow();
    }

    /** The uid of a record of kdiag.abnormals; {@code null} for the probes and garbage the other tests put there. */
    private static String uidOf(ConsumerRecord<byte[], byte[]> record) {
        try {
            return TOPICS.abnormals().valueSerde().deserializer().deserialize(record.topic(), record.value()).getUid();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** The reasons (the word before the colon) of the dead letters of kdiag.abnormals under {@code node}'s key. */
    private static List<String> deadLetterReasons(String node) {
        return read(TOPICS.deadLetters().name()).stream()
                .filter(r -> TOPICS.abnormals().name().equals(header(r, DeadLetterHeaders.SOURCE_TOPIC)) && Arrays.equals(bytes(node), r.key()))
                .map(r -> header(r, DeadLetterHeaders.REASON).split(":", 2)[0]).toList();
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    /** Every committed record of every partition of {@code topic}, read as the operator. */
    private static List<ConsumerRecord<byte[], byte[]>> read(String topic) {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        Map<String, Object> settings = adminSettings();
        settings.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(settings, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
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
        read(TOPICS.deadLetters().name()).forEach(r -> sources.add(header(r, DeadLetterHeaders.SOURCE_TOPIC)));
        sources.remove(null);
        return sources;
    }
}
