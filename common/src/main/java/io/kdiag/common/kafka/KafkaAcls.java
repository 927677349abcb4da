package io.kdiag.common.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.kdiag.schemas.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The Kafka ACLs of the pipeline, in one place (DESIGN §6): one principal per role, each allowed exactly what its code
 * does and nothing else. Only the source bridge and the log sources (the same validating gate) write
 * {@code <prefix>abnormals}; only agents write {@code <prefix>diagnosis-events}; only the status writer writes
 * {@code <prefix>abnormal-status}; ingest producers write {@code <prefix>abnormal-requests} only.
 *
 * <p>The pipeline's components publish their schemas to {@code <prefix>schemas} at start and everyone who reads
 * records reads it. Ingest producers may not publish: a schema fingerprint is a CRC-64, not a cryptographic hash, so
 * whoever may write that topic can make records of a version a reader has not seen decode under a schema of their
 * making. Only principals already trusted with the records they describe write it.
 *
 * <p>Agents write {@code <prefix>evidence} (context values too large for their events); the status writer, which
 * serves them over HTTP, and readers of the history read it.
 *
 * <p>{@code <prefix>recovery-control}, the kill switch of every recovery, is written only by a person with the CLI
 * ({@code kdiag recoveries pause|resume}); every agent reads it before it runs a recoverer, readers may see it.
 *
 * <p>The recovery budgets: agents write their requests to {@code <prefix>recovery-budget-requests} and read
 * {@code <prefix>recovery-budget-answers}; only the status writer, which runs the budget arbiter, reads the requests and
 * writes the answers, so no agent can grant itself a recovery.
 *
 * <p>{@code <prefix>approvals}, the decisions on recoveries waiting for approval, is written only by approvers
 * ({@code kdiag approve|deny}) and by the relays of decisions people give through Kubernetes (the status writer for its
 * HTTP approvals, the source bridge for annotations), and read by the agents. The ACL is the first check; the agent also
 * verifies each decision's signature by an approver's or a relay's key, which is what names who decided.
 *
 * <p>Group and transactional ids, the status writer's internal topics and the gate's own topics are those of
 * {@link KafkaNames}, all under the topic prefix, so one set of bindings per installation covers exactly that
 * installation. {@code KafkaAclsIT} (module reliability) runs every component under its principal with exactly this
 * set, so a component that starts using another resource fails there.
 *
 * <p>Every binding allows, from any host. Read and Write imply Describe, so Describe is never listed.
 */
public final class KafkaAcls {
    /** Who talks to Kafka, each with the user name the shipped manifests give it. */
    public enum Role {
        /** The source bridge: the gate into {@code abnormals}, reading the open ingest topic. */
        SOURCE_BRIDGE("kdiag-source-bridge"),
        /** A node's log source: the same gate, for its own node's log lines, without the ingest topic. */
        LOG_SOURCE("kdiag-log-source"),
        /** The node agents: read their node's partition of {@code abnormals}, write the events. */
        NODE_AGENT("kdiag-node-agent"),
        /** The status writer: the Kafka Streams fold of the events into statuses. */
        STATUS_WRITER("kdiag-status-writer"),
        /** Dashboards and scripts that only read statuses and histories ({@code kdiag get}, {@code history}, {@code watch}, {@code replay}). */
        READER("kdiag-reader"),
        /** Producers of the open ingest topic. */
        INGEST("kdiag-ingest"),
        /** A person with the CLI: submits to the ingest topic, reads statuses and histories, pauses and resumes recoveries. */
        CLI("kdiag-cli"),
        /** A person who may approve or deny recoveries ({@code kdiag approve|deny}): reads what readers read, writes decisions. */
        APPROVER("kdiag-approver");

        private final String defaultUser;

        Role(String defaultUser) {
            this.defaultUser = defaultUser;
        }

        /** The user name of this role in the shipped manifests (the Strimzi {@code KafkaUser}). */
        public String defaultUser() {
            return defaultUser;
        }

        /** {@code User:<default user>}. */
        public String defaultPrincipal() {
            return "User:" + defaultUser;
        }
    }

    /** How {@link #format} orders bindings: by principal, then resource, then operation. */
    private static final Comparator<AclBinding> ORDER = Comparator.comparing((AclBinding b) -> b.entry().principal())
            .thenComparing(b -> b.pattern().resourceType())
            .thenComparing(b -> b.pattern().name())
            .thenComparing(b -> b.pattern().patternType())
            .thenComparing(b -> b.entry().operation());

    private final Topics topics;
    private final KafkaNames names;

    /** The ACLs of the installation with this topic prefix ({@code kdiag.topic-prefix}). */
    public KafkaAcls(String topicPrefix) {
        this.topics = new Topics(Objects.requireNonNull(topicPrefix, "topicPrefix"));
        this.names = new KafkaNames(topicPrefix);
    }

    /** The bindings of one role, for {@code principal} ({@code User:name}). */
    public List<AclBinding> bindings(Role role, String principal) {
        Objects.requireNonNull(principal, "principal");
        String bridgeState = names.bridgeStateTopic();
        String stormLedger = names.stormLedgerTopic();
        String statusWriterApplicationId = names.statusWriterApplicationId();
        String schemas = topics.schemas().name();
        List<AclBinding> out = new ArrayList<>();
        switch (role) {
            case SOURCE_BRIDGE -> {
                // read before written, so a restart publishes nothing twice
                topic(out, principal, schemas, AclOperation.READ, AclOperation.WRITE);
                topic(out, principal, topics.abnormalRequests().name(), AclOperation.READ);
                topic(out, principal, topics.abnormals().name(), AclOperation.WRITE);
                topic(out, principal, topics.deadLetters().name(), AclOperation.WRITE);
                // the decisions people give by annotation, relayed (signed with the bridge's relay key)
                topic(out, principal, topics.approvals().name(), AclOperation.WRITE);
                // created by the bridge where missing, read whole at start, written after each acknowledged forward
                topic(out, principal, bridgeState, AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE);
                // the storm budget every gate shares: created where missing, read from a minute back, written with each start
                topic(out, principal, stormLedger, AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE);
                add(out, principal, ResourceType.GROUP, names.bridgeGroup(), PatternType.LITERAL, AclOperation.READ);
            }
            case LOG_SOURCE -> {
                topic(out, principal, schemas, AclOperation.READ, AclOperation.WRITE);
                topic(out, principal, topics.abnormals().name(), AclOperation.WRITE);
                topic(out, principal, topics.deadLetters().name(), AclOperation.WRITE);
                topic(out, principal, bridgeState, AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE);
                topic(out, principal, stormLedger, AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE);
            }
            case NODE_AGENT -> {
                topic(out, principal, schemas, AclOperation.READ, AclOperation.WRITE);
                topic(out, principal, topics.evidence().name(), AclOperation.WRITE);
                topic(out, principal, topics.abnormals().name(), AclOperation.READ);
                topic(out, principal, topics.recoveryControl().name(), AclOperation.READ);
                topic(out, principal, topics.recoveryBudgetRequests().name(), AclOperation.WRITE);
                topic(out, principal, topics.recoveryBudgetAnswers().name(), AclOperation.READ);
                topic(out, principal, topics.approvals().name(), AclOperation.READ);
                topic(out, principal, topics.diagnosisEvents().name(), AclOperation.WRITE);
                topic(out, principal, topics.deadLetters().name(), AclOperation.WRITE);
                add(out, principal, ResourceType.GROUP, names.agentGroupPrefix(), PatternType.PREFIXED, AclOperation.READ);
            }
            case STATUS_WRITER -> {
                topic(out, principal, schemas, AclOperation.READ, AclOperation.WRITE);
                // DescribeConfigs: the start checks that evidence is kept as long as the events (EvidenceRetention)
                topic(out, principal, topics.evidence().name(), AclOperation.READ, AclOperation.DESCRIBE_CONFIGS);
                topic(out, principal, topics.diagnosisEvents().name(), AclOperation.READ, AclOperation.DESCRIBE_CONFIGS);
                topic(out, principal, topics.abnormalStatus().name(), AclOperation.WRITE);
                topic(out, principal, topics.recoveryBudgetRequests().name(), AclOperation.READ);
                topic(out, principal, topics.recoveryBudgetAnswers().name(), AclOperation.WRITE);
                topic(out, principal, topics.deadLetters().name(), AclOperation.WRITE);
                // the approvals its query API relays (idempotent, outside the Streams transactions)
                topic(out, principal, topics.approvals().name(), AclOperation.WRITE);
                // Kafka Streams' internal topics (<application id>-<store>-changelog): created, written, restored from. The topology has
                // no repartition topic, so no Delete (purging) is needed; KafkaAclsIT restarts the writer on exactly these
                add(out, principal, ResourceType.TOPIC, statusWriterApplicationId + "-", PatternType.PREFIXED, AclOperation.CREATE,
                        AclOperation.READ, AclOperation.WRITE);
                add(out, principal, ResourceType.GROUP, statusWriterApplicationId, PatternType.LITERAL, AclOperation.READ);
                // the budget arbiter, a Kafka Streams application of its own whose internal topics and transactional ids the
                // prefixed grants around this one cover
                add(out, principal, ResourceType.GROUP, names.budgetArbiterApplicationId(), PatternType.LITERAL, AclOperation.READ);
                // exactly-once v2 (the budget arbiter): <application id>-<process id>-<thread>
                add(out, principal, ResourceType.TRANSACTIONAL_ID, statusWriterApplicationId + "-", PatternType.PREFIXED,
                        AclOperation.WRITE);
            }
            case READER -> {
                topic(out, principal, schemas, AclOperation.READ);
                topic(out, principal, topics.evidence().name(), AclOperation.READ);
                topic(out, principal, topics.abnormalStatus().name(), AclOperation.READ);
                topic(out, principal, topics.diagnosisEvents().name(), AclOperation.READ);
                topic(out, principal, topics.recoveryControl().name(), AclOperation.READ);
            }
            case INGEST -> topic(out, principal, topics.abnormalRequests().name(), AclOperation.WRITE);
            case CLI -> {
                out.addAll(bindings(Role.INGEST, principal));
                out.addAll(bindings(Role.READER, principal));
                topic(out, principal, topics.recoveryControl().name(), AclOperation.WRITE);
            }
            case APPROVER -> {
                out.addAll(bindings(Role.READER, principal));
                topic(out, principal, topics.approvals().name(), AclOperation.WRITE);
            }
            default -> throw new IllegalArgumentException("unknown role " + role);
        }
        return List.copyOf(out);
    }

    /** The bindings of every role, each for the principal given; roles not in the map get none. */
    public List<AclBinding> bindings(Map<Role, String> principals) {
        Set<AclBinding> out = new LinkedHashSet<>();
        principals.forEach((role, principal) -> out.addAll(bindings(role, principal)));
        return List.copyOf(out);
    }

    /** The bindings of every role for its default user ({@link Role#defaultPrincipal()}), as the manifests ship them. */
    public List<AclBinding> defaultBindings() {
        Map<Role, String> principals = new EnumMap<>(Role.class);
        for (Role role : Role.values()) {
            principals.put(role, role.defaultPrincipal());
        }
        return bindings(principals);
    }

    private static void topic(List<AclBinding> out, String principal, String topic, AclOperation... operations) {
        add(out, principal, ResourceType.TOPIC, topic, PatternType.LITERAL, operations);
    }

    private static void add(List<AclBinding> out, String principal, ResourceType type, String name, PatternType pattern,
            AclOperation... operations) {
        for (AclOperation operation : operations) {
            out.add(new AclBinding(new ResourcePattern(type, name, pattern),
                    new AccessControlEntry(principal, "*", operation, AclPermissionType.ALLOW)));
        }
    }

    /**
     * The bindings sorted by principal, resource and operation, each as {@code principal permission operation
     * resource-type pattern-type name}: the columns {@code kdiag acls} prints.
     */
    public static List<String[]> rows(Collection<AclBinding> bindings) {
        return bindings.stream().sorted(ORDER).map(b -> new String[] {b.entry().principal(), b.entry().permissionType().toString(),
                b.entry().operation().toString(), b.pattern().resourceType().toString(), b.pattern().patternType().toString(),
                b.pattern().name()}).toList();
    }

    /** One line per binding, its {@link #rows row} separated by spaces. */
    public static String format(Collection<AclBinding> bindings) {
        StringBuilder out = new StringBuilder();
        rows(bindings).forEach(row -> out.append(String.join(" ", row)).append('\n'));
        return out.toString();
    }

    /**
     * What {@link #apply} changed.
     *
     * @param created bindings that were missing and were created
     * @param deleted grants (ALLOW) of the same principals that were not in the set and were deleted
     */
    public record Applied(List<AclBinding> created, List<AclBinding> deleted) {
    }

    /**
     * Makes the grants of the principals named in {@code bindings} exactly {@code bindings}: creates the missing ones and
     * deletes every other ALLOW of those principals (a grant left from an older topic prefix, say). DENY entries, which
     * only take rights away, and ACLs of other principals are not touched. Needs Alter and Describe on the cluster.
     *
     * @throws IllegalStateException if Kafka refuses or does not answer within {@code timeout}
     */
    public static Applied apply(Admin admin, Collection<AclBinding> bindings, Duration timeout) {
        Set<AclBinding> wanted = new LinkedHashSet<>(bindings);
        Set<String> principals = new LinkedHashSet<>();
        wanted.forEach(b -> principals.add(b.entry().principal()));
        try {
            Set<AclBinding> existing = new LinkedHashSet<>();
            for (String principal : principals) {
                existing.addAll(admin.describeAcls(new AclBindingFilter(ResourcePatternFilter.ANY,
                        new AccessControlEntryFilter(principal, null, AclOperation.ANY, AclPermissionType.ANY)))
                        .values().get(timeout.toMillis(), TimeUnit.MILLISECONDS));
            }
            List<AclBinding> missing = wanted.stream().filter(b -> !existing.contains(b)).toList();
            // a DENY only ever takes rights away: it is the operator's, and stays
            List<AclBinding> extra = existing.stream()
                    .filter(b -> b.entry().permissionType() == AclPermissionType.ALLOW && !wanted.contains(b)).toList();
            if (!missing.isEmpty()) {
                admin.createAcls(missing).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
            if (!extra.isEmpty()) {
                admin.deleteAcls(extra.stream().map(AclBinding::toFilter).toList()).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
            return new Applied(missing, extra);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot apply the ACLs: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka did not answer within " + timeout.toSeconds() + " s while applying the ACLs", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while applying the ACLs", e);
        }
    }
}
