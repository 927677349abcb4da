package io.kdiag.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import io.kdiag.common.kafka.KafkaAcls.Role;
import io.kdiag.schemas.Topics;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KafkaAclsTest {

    /** Whether the bindings let {@code principal} do {@code operation} on the resource, as the standard authoriser decides. */
    static boolean allows(Collection<AclBinding> bindings, String principal, ResourceType type, String name, AclOperation operation) {
        return bindings.stream().anyMatch(b -> b.entry().principal().equals(principal)
                && b.entry().permissionType() == AclPermissionType.ALLOW
                && b.pattern().resourceType() == type
                && matches(b.pattern().patternType(), b.pattern().name(), name)
                && implies(b.entry().operation(), operation));
    }

    private static boolean matches(PatternType pattern, String patternName, String name) {
        return switch (pattern) {
            case LITERAL -> patternName.equals(name) || patternName.equals("*");
            case PREFIXED -> name.startsWith(patternName);
            default -> throw new AssertionError("unexpected pattern type " + pattern);
        };
    }

    /** Kafka's rule: Read, Write, Delete and Alter imply Describe; All implies everything. */
    private static boolean implies(AclOperation granted, AclOperation wanted) {
        return granted == wanted || granted == AclOperation.ALL
                || wanted == AclOperation.DESCRIBE && Set.of(AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE,
                AclOperation.ALTER).contains(granted);
    }

    private static Set<String> principalsAllowed(Collection<AclBinding> bindings, String topic, AclOperation operation) {
        return Stream.of(Role.values()).map(Role::defaultPrincipal)
                .filter(p -> allows(bindings, p, ResourceType.TOPIC, topic, operation))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    private static Set<String> principals(Role... roles) {
        return Stream.of(roles).map(Role::defaultPrincipal).collect(Collectors.toCollection(TreeSet::new));
    }

    @ParameterizedTest(name = "prefix {0}")
    @ValueSource(strings = {"kdiag.", "prod-eu."})
    void shouldLetEachTopicBeWrittenOnlyByItsWriters(String prefix) {
        List<AclBinding> acls = new KafkaAcls(prefix).defaultBindings();
        Topics topics = new Topics(prefix);

        assertThat(principalsAllowed(acls, topics.abnormals().name(), AclOperation.WRITE))
                .isEqualTo(principals(Role.SOURCE_BRIDGE, Role.LOG_SOURCE));
        assertThat(principalsAllowed(acls, topics.diagnosisEvents().name(), AclOperation.WRITE)).isEqualTo(principals(Role.NODE_AGENT));
        assertThat(principalsAllowed(acls, topics.abnormalStatus().name(), AclOperation.WRITE)).isEqualTo(principals(Role.STATUS_WRITER));
        assertThat(principalsAllowed(acls, topics.abnormalRequests().name(), AclOperation.WRITE)).isEqualTo(principals(Role.INGEST, Role.CLI));
        assertThat(principalsAllowed(acls, topics.deadLetters().name(), AclOperation.WRITE))
                .isEqualTo(principals(Role.SOURCE_BRIDGE, Role.LOG_SOURCE, Role.NODE_AGENT, Role.STATUS_WRITER));
        assertThat(principalsAllowed(acls, prefix + "bridge-state", AclOperation.WRITE)).isEqualTo(principals(Role.SOURCE_BRIDGE, Role.LOG_SOURCE));
        // the components publish the schemas they write with; an ingest producer is not trusted to (KafkaAcls)
        assertThat(principalsAllowed(acls, topics.schemas().name(), AclOperation.WRITE))
                .isEqualTo(principals(Role.SOURCE_BRIDGE, Role.LOG_SOURCE, Role.NODE_AGENT, Role.STATUS_WRITER));
        assertThat(principalsAllowed(acls, topics.evidence().name(), AclOperation.WRITE)).isEqualTo(principals(Role.NODE_AGENT));
        // the kill switch of every recovery: a person's, never a component's nor an ingest producer's
        assertThat(principalsAllowed(acls, topics.recoveryControl().name(), AclOperation.WRITE)).isEqualTo(principals(Role.CLI));
        // agents ask for recovery budget; only the arbiter (the status writer) answers, so no agent grants itself a recovery
        assertThat(principalsAllowed(acls, topics.recoveryBudgetRequests().name(), AclOperation.WRITE)).isEqualTo(principals(Role.NODE_AGENT));
        assertThat(principalsAllowed(acls, topics.recoveryBudgetAnswers().name(), AclOperation.WRITE)).isEqualTo(principals(Role.STATUS_WRITER));
        // decisions on recoveries waiting for approval: an approver's, or a relay's (the status writer over HTTP, the bridge for annotations)
        assertThat(principalsAllowed(acls, topics.approvals().name(), AclOperation.WRITE))
                .isEqualTo(principals(Role.SOURCE_BRIDGE, Role.STATUS_WRITER, Role.APPROVER));
        assertThat(principalsAllowed(acls, prefix + "storm-ledger", AclOperation.WRITE)).isEqualTo(principals(Role.SOURCE_BRIDGE, Role.LOG_SOURCE));
        assertThat(principalsAllowed(acls, prefix + "storm-ledger", AclOperation.READ)).isEqualTo(principals(Role.SOURCE_BRIDGE, Role.LOG_SOURCE));
        // nobody may create or delete the catalogue topics, nor change their settings
        for (Topics.TopicSpec spec : topics.specs(12)) {
            for (AclOperation op : List.of(AclOperation.CREATE, AclOperation.DELETE, AclOperation.ALTER, AclOperation.ALTER_CONFIGS)) {
                assertThat(principalsAllowed(acls, spec.name(), op)).as(op + " " + spec.name()).isEmpty();
            }
        }
    }

    @Test
    void shouldLetEachTopicBeReadOnlyByItsReaders() {
        List<AclBinding> acls = new KafkaAcls("kdiag.").defaultBindings();
        Topics topics = new Topics("kdiag.");

        assertThat(principalsAllowed(acls, topics.abnormalRequests().name(), AclOperation.READ)).isEqualTo(principals(Role.SOURCE_BRIDGE));
        assertThat(principalsAllowed(acls, topics.abnormals().name(), AclOperation.READ)).isEqualTo(principals(Role.NODE_AGENT));
        assertThat(principalsAllowed(acls, topics.diagnosisEvents().name(), AclOperation.READ))
                .isEqualTo(principals(Role.STATUS_WRITER, Role.READER, Role.CLI, Role.APPROVER));
        assertThat(principalsAllowed(acls, topics.abnormalStatus().name(), AclOperation.READ))
                .isEqualTo(principals(Role.READER, Role.CLI, Role.APPROVER));
        assertThat(principalsAllowed(acls, topics.schemas().name(), AclOperation.READ)).isEqualTo(principals(Role.SOURCE_BRIDGE,
                Role.LOG_SOURCE, Role.NODE_AGENT, Role.STATUS_WRITER, Role.READER, Role.CLI, Role.APPROVER));
        assertThat(principalsAllowed(acls, topics.evidence().name(), AclOperation.READ))
                .isEqualTo(principals(Role.STATUS_WRITER, Role.READER, Role.CLI, Role.APPROVER));
        assertThat(principalsAllowed(acls, topics.recoveryControl().name(), AclOperation.READ))
                .isEqualTo(principals(Role.NODE_AGENT, Role.READER, Role.CLI, Role.APPROVER));
        assertThat(principalsAllowed(acls, topics.approvals().name(), AclOperation.READ)).isEqualTo(principals(Role.NODE_AGENT));
        assertThat(principalsAllowed(acls, topics.recoveryBudgetRequests().name(), AclOperation.READ)).isEqualTo(principals(Role.STATUS_WRITER));
        assertThat(principalsAllowed(acls, topics.recoveryBudgetAnswers().name(), AclOperation.READ)).isEqualTo(principals(Role.NODE_AGENT));
        // dead letters may hold what a producer should not have sent: for operators, not for the pipeline's principals
        assertThat(principalsAllowed(acls, topics.deadLetters().name(), AclOperation.READ)).isEmpty();
    }

    @Test
    void shouldGiveGroupsAndTransactionalIdsOnlyToTheirComponents() {
        List<AclBinding> acls = new KafkaAcls("kdiag.").defaultBindings();
        String bridge = Role.SOURCE_BRIDGE.defaultPrincipal();
        String log = Role.LOG_SOURCE.defaultPrincipal();
        String agent = Role.NODE_AGENT.defaultPrincipal();
        String writer = Role.STATUS_WRITER.defaultPrincipal();

        // only the status writer's budget arbiter runs exactly once; the gates forward at least once, without transactions
        assertThat(allows(acls, writer, ResourceType.TRANSACTIONAL_ID, "kdiag.status-writer-3f1c-1", AclOperation.WRITE)).isTrue();
        assertThat(acls).as("transactional ids of anyone but the status writer").noneMatch(b -> b.pattern().resourceType()
                == ResourceType.TRANSACTIONAL_ID && !b.entry().principal().equals(writer));

        assertThat(allows(acls, bridge, ResourceType.GROUP, "kdiag.source-bridge", AclOperation.READ)).isTrue();
        assertThat(allows(acls, agent, ResourceType.GROUP, "kdiag.node-agent-node-1", AclOperation.READ)).isTrue();
        assertThat(allows(acls, agent, ResourceType.GROUP, "kdiag.source-bridge", AclOperation.READ)).isFalse();
        assertThat(allows(acls, writer, ResourceType.GROUP, "kdiag.status-writer", AclOperation.READ)).isTrue();
        assertThat(allows(acls, writer, ResourceType.TOPIC, "kdiag.status-writer-status-store-changelog", AclOperation.CREATE)).isTrue();
        for (Role role : List.of(Role.READER, Role.INGEST, Role.CLI, Role.LOG_SOURCE)) {
            assertThat(acls).as(role + " joins no group").noneMatch(b -> b.entry().principal().equals(role.defaultPrincipal())
                    && b.pattern().resourceType() == ResourceType.GROUP);
        }
    }

    @Test
    void shouldKeepEachInstallationToTheGroupsTransactionsAndInternalTopicsOfItsPrefix() {
        List<AclBinding> eu = new KafkaAcls("prod-eu.").defaultBindings();
        KafkaNames us = new KafkaNames("prod-us.");

        for (Role role : Role.values()) {
            String principal = role.defaultPrincipal();
            assertThat(allows(eu, principal, ResourceType.GROUP, us.bridgeGroup(), AclOperation.READ)).as(role.name()).isFalse();
            assertThat(allows(eu, principal, ResourceType.GROUP, us.agentGroup("node-1"), AclOperation.READ)).as(role.name()).isFalse();
            assertThat(allows(eu, principal, ResourceType.GROUP, us.statusWriterApplicationId(), AclOperation.READ)).as(role.name()).isFalse();
            assertThat(allows(eu, principal, ResourceType.TRANSACTIONAL_ID, us.statusWriterApplicationId() + "-p-1", AclOperation.WRITE))
                    .as(role.name()).isFalse();
            assertThat(allows(eu, principal, ResourceType.TOPIC, us.statusWriterApplicationId() + "-status-fold-store-changelog",
                    AclOperation.READ)).as(role.name()).isFalse();
            assertThat(allows(eu, principal, ResourceType.TOPIC, us.bridgeStateTopic(), AclOperation.READ)).as(role.name()).isFalse();
            assertThat(allows(eu, principal, ResourceType.TOPIC, us.stormLedgerTopic(), AclOperation.READ)).as(role.name()).isFalse();
        }
        assertThat(allows(eu, Role.STATUS_WRITER.defaultPrincipal(), ResourceType.GROUP, "prod-eu.status-writer", AclOperation.READ)).isTrue();
    }

    @Test
    void shouldGrantNoWildcardNoClusterRightAndNoDenial() {
        List<AclBinding> acls = new KafkaAcls("kdiag.").defaultBindings();

        assertThat(acls).isNotEmpty().doesNotHaveDuplicates().allSatisfy(b -> {
            assertThat(b.pattern().name()).isNotEqualTo("*");
            assertThat(b.pattern().resourceType()).isNotEqualTo(ResourceType.CLUSTER);
            assertThat(b.entry().operation()).isNotIn(AclOperation.ALL, AclOperation.ALTER, AclOperation.ALTER_CONFIGS,
                    AclOperation.CLUSTER_ACTION, AclOperation.IDEMPOTENT_WRITE);
            assertThat(b.entry().permissionType()).isEqualTo(AclPermissionType.ALLOW);
            assertThat(b.entry().host()).isEqualTo("*");
        });
    }

    @Test
    void shouldGiveTheCliExactlyTheIngestAndReaderRightsAndTheRecoveryKillSwitch() {
        KafkaAcls acls = new KafkaAcls("kdiag.");
        AclBinding killSwitch = new AclBinding(new ResourcePattern(ResourceType.TOPIC, "kdiag.recovery-control", PatternType.LITERAL),
                new AccessControlEntry("User:alice", "*", AclOperation.WRITE, AclPermissionType.ALLOW));

        assertThat(acls.bindings(Role.CLI, "User:alice")).containsExactlyInAnyOrderElementsOf(
                Stream.concat(Stream.concat(acls.bindings(Role.INGEST, "User:alice").stream(), acls.bindings(Role.READER, "User:alice").stream()),
                        Stream.of(killSwitch)).toList());
        assertThat(acls.bindings(Role.INGEST, "User:ingest")).hasSize(1);
    }

    @Test
    void shouldBindEachRoleToThePrincipalGiven() {
        List<AclBinding> acls = new KafkaAcls("kdiag.").bindings(Map.of(Role.NODE_AGENT, "User:agents", Role.READER, "User:grafana"));

        assertThat(acls).extracting(b -> b.entry().principal()).containsOnly("User:agents", "User:grafana");
        assertThat(allows(acls, "User:agents", ResourceType.TOPIC, "kdiag.diagnosis-events", AclOperation.WRITE)).isTrue();
    }

    @Test
    void shouldFormatOneSortedLinePerBinding() {
        List<AclBinding> acls = new KafkaAcls("kdiag.").bindings(Role.INGEST, "User:kdiag-ingest");

        assertThat(KafkaAcls.format(acls)).isEqualTo("User:kdiag-ingest ALLOW WRITE TOPIC LITERAL kdiag.abnormal-requests\n");
        String all = KafkaAcls.format(new KafkaAcls("kdiag.").defaultBindings());
        List<String> lines = all.lines().toList();
        assertThat(lines).hasSize(new KafkaAcls("kdiag.").defaultBindings().size());
        assertThat(lines.get(0)).startsWith("User:kdiag-approver ");
        assertThat(lines.get(lines.size() - 1)).startsWith("User:kdiag-status-writer ");
    }
}
