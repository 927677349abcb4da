package io.kdiag.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.kdiag.common.kafka.KafkaAcls;
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

/**
 * Kafka authentication and authorisation in the cluster overlays: the Strimzi KafkaUsers carry exactly
 * {@link KafkaAcls}' set (so the manifests and the code cannot drift), the Kafka listener admits no one without a
 * login, and each component logs in as the user of its role, over TLS, in both overlays.
 */
class KafkaUsersTest {
    /** The Kafka user each container logs in as. */
    private static final Map<String, Role> CONTAINERS = Map.of("source-bridge", Role.SOURCE_BRIDGE, "log-source", Role.LOG_SOURCE,
            "node-agent", Role.NODE_AGENT, "status-writer", Role.STATUS_WRITER);

    @Test
    void shouldGiveEachStrimziUserExactlyTheAclsOfItsRole() {
        Rendered r = Rendered.of("deploy/overlays/strimzi");
        Map<String, String> kafka = r.configMap("kdiag-kafka").orElseThrow().getData();
        String prefix = kafka.getOrDefault("KDIAG_TOPIC_PREFIX", Topics.DEFAULT_PREFIX);
        // every group, transactional id and internal topic derives from the prefix: nothing else may name one
        assertThat(kafka).doesNotContainKeys("KDIAG_APPLICATION_ID", "KDIAG_TRANSACTIONAL_ID");

        Set<AclBinding> declared = new HashSet<>();
        Set<String> users = new HashSet<>();
        r.ofKind("KafkaUser").forEach(user -> {
            String name = Kustomize.name(user);
            users.add(name);
            assertThat(labels(user)).containsEntry("strimzi.io/cluster", "kdiag");
            Map<String, Object> spec = map(user.get("spec"));
            assertThat(map(spec.get("authentication"))).as(name).containsEntry("type", "scram-sha-512");
            Map<String, Object> authorization = map(spec.get("authorization"));
            assertThat(authorization).as(name).containsEntry("type", "simple");
            for (Object a : (List<?>) authorization.get("acls")) {
                declared.addAll(bindings("User:" + name, map(a)));
            }
        });

        assertThat(users).containsExactlyInAnyOrderElementsOf(Stream.of(Role.values()).map(Role::defaultUser).toList());
        assertThat(declared).containsExactlyInAnyOrderElementsOf(
                new KafkaAcls(prefix).defaultBindings());
    }

    /** A Strimzi {@code simple} ACL rule as Kafka bindings. */
    private static List<AclBinding> bindings(String principal, Map<String, Object> acl) {
        Map<String, Object> resource = map(acl.get("resource"));
        ResourceType type = switch (String.valueOf(resource.get("type"))) {
            case "topic" -> ResourceType.TOPIC;
            case "group" -> ResourceType.GROUP;
            case "transactionalId" -> ResourceType.TRANSACTIONAL_ID;
            case "cluster" -> ResourceType.CLUSTER;
            default -> throw new AssertionError("unknown Strimzi resource type " + resource.get("type"));
        };
        String name = type == ResourceType.CLUSTER ? "kafka-cluster" : String.valueOf(resource.get("name"));
        PatternType pattern = "prefix".equals(resource.getOrDefault("patternType", "literal")) ? PatternType.PREFIXED : PatternType.LITERAL;
        AclPermissionType permission = "deny".equals(acl.getOrDefault("type", "allow")) ? AclPermissionType.DENY : AclPermissionType.ALLOW;
        String host = String.valueOf(acl.getOrDefault("host", "*"));
        assertThat(acl).as("Strimzi's deprecated single 'operation'").doesNotContainKey("operation");
        return ((List<?>) acl.get("operations")).stream()
                .map(op -> AclOperation.valueOf(String.valueOf(op).replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT)))
                .map(op -> new AclBinding(new ResourcePattern(type, name, pattern), new AccessControlEntry(principal, host, op, permission)))
                .toList();
    }

    @Test
    void shouldLetNoClientIntoTheStrimziClusterWithoutALogin() {
        Rendered r = Rendered.of("deploy/overlays/strimzi");
        Map<String, Object> kafka = map(map(r.ofKind("Kafka").findFirst().orElseThrow().get("spec")).get("kafka"));
        assertThat(map(kafka.get("authorization"))).containsEntry("type", "simple");
        List<?> listeners = (List<?>) kafka.get("listeners");
        assertThat(listeners).isNotEmpty().allSatisfy(l -> {
            Map<String, Object> listener = map(l);
            assertThat(map(listener.get("authentication")).get("type")).as(listener.get("name") + " authentication")
                    .isIn("scram-sha-512", "tls");
        });
        Map<String, Object> entityOperator = map(map(r.ofKind("Kafka").findFirst().orElseThrow().get("spec")).get("entityOperator"));
        assertThat(entityOperator).as("the User Operator turns KafkaUsers into credentials and ACLs").containsKey("userOperator");

        Map<String, String> config = r.configMap("kdiag-kafka").orElseThrow().getData();
        int port = Integer.parseInt(config.get("KDIAG_KAFKA_BOOTSTRAP_SERVERS").replaceFirst(".*:", ""));
        Map<String, Object> used = listeners.stream().map(KafkaUsersTest::map).filter(l -> Integer.valueOf(port).equals(l.get("port")))
                .findFirst().orElseThrow(() -> new AssertionError("no listener on the bootstrap port " + port));
        assertThat(used).containsEntry("tls", true);
        assertThat(map(used.get("authentication"))).containsEntry("type", "scram-sha-512");
        assertThat(config).containsEntry("KDIAG_KAFKA_SECURITY_PROTOCOL", "SASL_SSL").containsEntry("KDIAG_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"deploy/overlays/strimzi", "deploy/overlays/external-kafka"})
    void shouldLogEachContainerInAsTheUserOfItsRoleOverTls(String overlay) {
        Rendered r = Rendered.of(overlay);
        Map<String, String> config = r.configMap("kdiag-kafka").orElseThrow().getData();
        assertThat(config).containsEntry("KDIAG_KAFKA_SECURITY_PROTOCOL", "SASL_SSL").containsEntry("KDIAG_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
                .containsEntry("KDIAG_KAFKA_SSL_TRUSTSTORE_TYPE", "PEM")
                // the users may not create topics: the catalogue is created beforehand
                .containsEntry("KDIAG_CREATE_TOPICS", "false")
                .doesNotContainKey("KDIAG_KAFKA_SASL_JAAS_CONFIG");
        String truststore = config.get("KDIAG_KAFKA_SSL_TRUSTSTORE_LOCATION");
        Map<String, String> logins = new LinkedHashMap<>();
        for (PodSpec pod : r.podSpecs().values()) {
            for (Container c : pod.getContainers()) {
                EnvVar jaas = c.getEnv().stream().filter(e -> e.getName().equals("KDIAG_KAFKA_SASL_JAAS_CONFIG")).findFirst()
                        .orElseThrow(() -> new AssertionError(overlay + " " + c.getName() + " has no Kafka login"));
                assertThat(jaas.getValue()).as("a login is never a literal in the manifests").isNull();
                assertThat(jaas.getValueFrom().getSecretKeyRef().getKey()).isEqualTo("sasl.jaas.config");
                logins.put(c.getName(), jaas.getValueFrom().getSecretKeyRef().getName());
                String mount = c.getVolumeMounts().stream().filter(m -> truststore.startsWith(m.getMountPath() + "/")).findFirst()
                        .orElseThrow(() -> new AssertionError(overlay + " " + c.getName() + " does not mount " + truststore)).getName();
                Volume volume = pod.getVolumes().stream().filter(v -> v.getName().equals(mount)).findFirst().orElseThrow();
                assertThat(volume.getSecret()).as(overlay + " " + c.getName() + " CA from a Secret").isNotNull();
            }
        }
        Map<String, String> expected = new LinkedHashMap<>();
        CONTAINERS.forEach((container, role) -> expected.put(container, role.defaultUser()));
        assertThat(logins).isEqualTo(expected);
    }

    @Test
    void shouldListTheAclsInTheSecurityGuideAsKafkaAclsPrintsThem() {
        String guide = Repo.read("docs/security.md");
        assertThat(guide).contains("```\n" + KafkaAcls.format(new KafkaAcls(Topics.DEFAULT_PREFIX).defaultBindings()) + "```\n");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        return value == null ? Map.of() : (Map<String, Object>) value;
    }

    private static Map<String, Object> labels(Map<String, Object> resource) {
        return map(map(resource.get("metadata")).get("labels"));
    }
}
