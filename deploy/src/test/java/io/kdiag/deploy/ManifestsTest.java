package io.kdiag.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.kdiag.common.config.ConfigKey;
import io.kdiag.common.health.Health;
import io.kdiag.schemas.Topics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The kustomizations render, and what they render agrees with the code: names, keys, ports, probes, topics. */
class ManifestsTest {
    private static final String NAMESPACE = "kube-diagnoser";
    private static final String KAFKA_ENV_PREFIX = "KDIAG_KAFKA_";

    static Stream<Rendered> applied() {
        return Rendered.APPLIED.stream().map(Rendered::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("applied")
    void shouldPutEveryNamespacedResourceInTheNamespace(Rendered r) {
        assertThat(r.has("Namespace", NAMESPACE)).isTrue();
        assertThat(r.resources()).allSatisfy(res -> {
            Object ns = ((Map<?, ?>) res.getOrDefault("metadata", Map.of())).get("namespace");
            assertThat(ns).as(Kustomize.kind(res) + " " + Kustomize.name(res)).isIn(NAMESPACE, null);
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("applied")
    void shouldReferenceOnlyConfigMapsSecretsAndServiceAccountsThatExistOrTheInstallGuideAsksFor(Rendered r) {
        String installGuide = Repo.read("docs/install.md");
        for (Map.Entry<String, PodSpec> workload : r.podSpecs().entrySet()) {
            PodSpec pod = workload.getValue();
            String at = r + " " + workload.getKey();
            assertThat(r.has("ServiceAccount", pod.getServiceAccountName())).as(at + " service account").isTrue();
            Set<String> configMaps = new LinkedHashSet<>();
            Set<String> secrets = new LinkedHashSet<>();
            for (Volume v : pod.getVolumes()) {
                if (v.getConfigMap() != null) {
                    configMaps.add(v.getConfigMap().getName());
                }
                if (v.getSecret() != null) {
                    secrets.add(v.getSecret().getSecretName());
                }
            }
            for (Container c : pod.getContainers()) {
                for (EnvFromSource from : c.getEnvFrom()) {
                    if (from.getConfigMapRef() != null) {
                        configMaps.add(from.getConfigMapRef().getName());
                    }
                    if (from.getSecretRef() != null) {
                        secrets.add(from.getSecretRef().getName());
                    }
                }
                for (EnvVar e : c.getEnv()) {
                    if (e.getValueFrom() != null && e.getValueFrom().getConfigMapKeyRef() != null) {
                        configMaps.add(e.getValueFrom().getConfigMapKeyRef().getName());
                    }
                    if (e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null) {
                        secrets.add(e.getValueFrom().getSecretKeyRef().getName());
                    }
                }
                for (var mount : c.getVolumeMounts()) {
                    assertThat(pod.getVolumes()).as(at + " volume of mount " + mount.getMountPath())
                            .anyMatch(v -> v.getName().equals(mount.getName()));
                }
            }
            assertThat(configMaps).as(at + " config maps").allMatch(name -> r.has("ConfigMap", name));
            assertThat(secrets).as(at + ": secrets neither in the manifests nor in docs/install.md")
                    .allMatch(name -> r.has("Secret", name) || installGuide.contains("`" + name + "`"));
        }
        for (ClusterRoleBinding b : r.all("ClusterRoleBinding", ClusterRoleBinding.class)) {
            assertThat(r.has("ClusterRole", b.getRoleRef().getName())).as(b.getMetadata().getName()).isTrue();
            for (Subject s : b.getSubjects()) {
                assertThat(s.getKind()).isEqualTo("ServiceAccount");
                assertThat(s.getNamespace()).isEqualTo(NAMESPACE);
                assertThat(r.has("ServiceAccount", s.getName())).as(b.getMetadata().getName() + " subject").isTrue();
            }
        }
        for (ValidatingAdmissionPolicyBinding b : r.all("ValidatingAdmissionPolicyBinding", ValidatingAdmissionPolicyBinding.class)) {
            assertThat(r.has("ValidatingAdmissionPolicy", b.getSpec().getPolicyName())).isTrue();
            ValidatingAdmissionPolicy policy = r.all("ValidatingAdmissionPolicy", ValidatingAdmissionPolicy.class).stream()
                    .filter(p -> p.getMetadata().getName().equals(b.getSpec().getPolicyName())).findFirst().orElseThrow();
            // a policy with parameters is bound to them; one without has none to bind
            assertThat(b.getSpec().getParamRef() != null).as(b.getMetadata().getName() + " binds parameters")
                    .isEqualTo(policy.getSpec().getParamKind() != null);
            if (b.getSpec().getParamRef() != null) {
                assertThat(b.getSpec().getParamRef().getNamespace()).isEqualTo(NAMESPACE);
                assertThat(r.has("ConfigMap", b.getSpec().getParamRef().getName())).as("admission parameters").isTrue();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("applied")
    void shouldSetOnlyTheKeysEachComponentDeclaresWithValuesItAccepts(Rendered r) {
        for (Container c : r.containers()) {
            Component component = Component.byContainer(c.getName());
            Map<String, ConfigKey<?>> declared = new HashMap<>();
            component.keys().forEach(k -> declared.put(k.envName(), k));
            Map<String, String> env = environment(r, c);
            assertThat(env).as(r + " " + c.getName() + " sets KDIAG_* variables its configuration does not declare "
                    + "(declared: " + declared.keySet() + ")")
                    .allSatisfy((name, value) -> {
                        if (name.startsWith("KDIAG_") && !name.startsWith(KAFKA_ENV_PREFIX)) {
                            assertThat(declared).containsKey(name);
                        }
                    });
            env.forEach((name, value) -> {
                ConfigKey<?> key = declared.get(name);
                if (key != null && value != null) {
                    assertThat(key.parser().apply(value)).as(r + " " + c.getName() + " " + name + "=" + value).isNotNull();
                }
            });
            assertThat(env.get(KAFKA_ENV_PREFIX + "BOOTSTRAP_SERVERS")).as(r + " " + c.getName() + " Kafka brokers").isNotBlank();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("applied")
    void shouldOpenExactlyThePortsTheCodeListensOnAndProbeItsEndpoints(Rendered r) {
        for (Container c : r.containers()) {
            Component component = Component.byContainer(c.getName());
            Map<String, String> env = environment(r, c);
            Map<Integer, String> listening = new HashMap<>();
            for (ConfigKey<?> key : component.keys()) {
                if (key.name().endsWith("-port")) {
                    String value = env.getOrDefault(key.envName(), key.defaultValue());
                    int port = (Integer) key.parser().apply(value);
                    if (port != 0) {
                        listening.put(port, key.name());
                    }
                }
            }
            Map<Integer, String> opened = new HashMap<>();
            c.getPorts().forEach(p -> opened.put(p.getContainerPort(), p.getName()));
            assertThat(opened.keySet()).as(r + " " + c.getName() + " ports, against its keys " + listening)
                    .containsExactlyInAnyOrderElementsOf(listening.keySet());
            opened.forEach((port, name) -> assertThat(name).as(r + " " + c.getName() + " port " + port + " (" + listening.get(port) + ")")
                    .endsWith(listening.get(port).endsWith("metrics-port") ? "metrics" : "http"));
            // every container is restarted when its main loop is stuck and sent work only when it can serve
            assertThat(c.getLivenessProbe()).as(r + " " + c.getName() + " liveness").isNotNull();
            assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo(Health.LIVENESS_PATH);
            assertThat(c.getReadinessProbe()).as(r + " " + c.getName() + " readiness").isNotNull();
            assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo(Health.READINESS_PATH);
            List<String> sources = Repo.mainSources(component.modules.toArray(String[]::new));
            for (Probe probe : Stream.of(c.getLivenessProbe(), c.getReadinessProbe()).filter(Objects::nonNull).toList()) {
                String path = probe.getHttpGet().getPath();
                String port = probe.getHttpGet().getPort().getStrVal();
                assertThat(c.getPorts()).as(r + " " + c.getName() + " probe port").extracting(ContainerPort::getName).contains(port);
                assertThat(sources).as(r + " " + c.getName() + " serves " + path).anyMatch(s -> s.contains("\"" + path + "\""));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("applied")
    void shouldRunOneImageWithTheComponentsSubcommand(Rendered r) {
        List<Container> containers = r.containers();
        assertThat(containers).extracting(Container::getName)
                .containsExactlyInAnyOrder(Stream.of(Component.values()).map(c -> c.container).toArray(String[]::new));
        assertThat(containers.stream().map(Container::getImage).distinct()).hasSize(1);
        for (Container c : containers) {
            assertThat(c.getCommand()).as("the image's entrypoint is the kdiag launcher").isEmpty();
            assertThat(c.getArgs()).as(c.getName()).containsExactly(Component.byContainer(c.getName()).subcommand);
            assertThat(c.getResources().getRequests()).as(c.getName()).containsKeys("cpu", "memory");
            assertThat(c.getResources().getLimits()).as(c.getName()).containsKeys("cpu", "memory");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("applied")
    void shouldExposeTheComponentsThroughServicesOnNamedPorts(Rendered r) {
        Map<String, PodSpec> pods = r.podSpecs();
        for (Service s : r.all("Service", Service.class)) {
            Map<String, String> selector = s.getSpec().getSelector();
            List<Map<String, String>> selected = new ArrayList<>();
            r.all("DaemonSet", DaemonSet.class).forEach(d -> selected.add(d.getSpec().getTemplate().getMetadata().getLabels()));
            r.all("Deployment", Deployment.class).forEach(d -> selected.add(d.getSpec().getTemplate().getMetadata().getLabels()));
            assertThat(selected).as(s.getMetadata().getName() + " selects a workload")
                    .anyMatch(labels -> labels.entrySet().containsAll(selector.entrySet()));
            PodSpec pod = pods.get(s.getMetadata().getName());
            assertThat(pod).as("service " + s.getMetadata().getName() + " is named after its workload").isNotNull();
            for (ServicePort port : s.getSpec().getPorts()) {
                assertThat(pod.getContainers().stream().flatMap(c -> c.getPorts().stream()))
                        .as(s.getMetadata().getName() + " " + port.getName())
                        .anyMatch(p -> p.getName().equals(port.getTargetPort().getStrVal()) && p.getContainerPort().equals(port.getPort()));
            }
        }
    }

    @Test
    void shouldManageTheCatalogueTopicsWithStrimziAndNotCreateThemAgain() {
        Rendered r = Rendered.of("deploy/overlays/strimzi");
        List<Map<String, Object>> kafkas = r.ofKind("Kafka").toList();
        assertThat(kafkas).hasSize(1);
        String cluster = Kustomize.name(kafkas.get(0));
        Map<String, String> kafkaEnv = r.configMap("kdiag-kafka").orElseThrow().getData();
        assertThat(kafkaEnv.get("KDIAG_KAFKA_BOOTSTRAP_SERVERS")).startsWith(cluster + "-kafka-bootstrap:");
        assertThat(kafkaEnv.get("KDIAG_CREATE_TOPICS")).isEqualTo("false");
        assertThat(r.ofKind("KafkaNodePool")).allSatisfy(pool -> assertThat(labels(pool)).containsEntry("strimzi.io/cluster", cluster));

        Topics topics = new Topics(kafkaEnv.getOrDefault("KDIAG_TOPIC_PREFIX", Topics.DEFAULT_PREFIX));
        int partitions = Integer.parseInt(kafkaEnv.getOrDefault("KDIAG_PARTITIONS", String.valueOf(Topics.DEFAULT_PARTITIONS)));
        Map<String, Map<String, Object>> byTopic = new HashMap<>();
        r.ofKind("KafkaTopic").forEach(t -> {
            assertThat(labels(t)).containsEntry("strimzi.io/cluster", cluster);
            byTopic.put(String.valueOf(spec(t).get("topicName")), spec(t));
        });
        assertThat(byTopic.keySet()).containsExactlyInAnyOrderElementsOf(topics.specs(partitions).stream().map(Topics.TopicSpec::name).toList());
        for (Topics.TopicSpec expected : topics.specs(partitions)) {
            Map<String, Object> actual = byTopic.get(expected.name());
            assertThat(actual.get("partitions")).as(expected.name()).isEqualTo(expected.partitions());
            Map<String, String> config = new HashMap<>();
            ((Map<?, ?>) actual.getOrDefault("config", Map.of())).forEach((k, v) -> config.put(k.toString(), v.toString()));
            assertThat(config).as(expected.name()).isEqualTo(expected.config());
        }
    }

    @Test
    void shouldRenderTheOptionalComponentsOverTheBase(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("kustomization.yml"), """
                resources: [%s]
                components: [%s, %s]
                """.formatted(Repo.path("deploy/base"), Repo.path("deploy/components/monitoring"),
                Repo.path("deploy/components/docker-socket")));
        Rendered r = Rendered.of("base + components", dir);
        PodSpec agent = r.podSpecs().get("kdiag-node-agent");
        assertThat(agent.getVolumes()).anyMatch(v -> v.getHostPath() != null && v.getHostPath().getPath().equals("/var/run/docker.sock"));
        Set<String> portNames = new LinkedHashSet<>();
        r.containers().forEach(c -> c.getPorts().forEach(p -> portNames.add(p.getName())));
        r.ofKind("PodMonitor").forEach(m -> {
            for (Object e : (List<?>) spec(m).get("podMetricsEndpoints")) {
                assertThat(portNames).contains(String.valueOf(((Map<?, ?>) e).get("port")));
            }
        });
        assertThat(r.ofKind("PodMonitor")).isNotEmpty();
    }

    @Test
    void shouldGiveTheAgentHostAccessWithCapabilitiesRatherThanPrivilege() {
        PodSpec agent = Rendered.of("deploy/base").podSpecs().get("kdiag-node-agent");
        assertThat(agent.getHostPID()).isTrue();
        assertThat(agent.getHostNetwork()).isNotEqualTo(Boolean.TRUE);
        assertThat(agent.getTolerations()).anyMatch(t -> "Exists".equals(t.getOperator()) && t.getKey() == null);
        Container c = agent.getContainers().stream().filter(x -> x.getName().equals("node-agent")).findFirst().orElseThrow();
        assertThat(c.getSecurityContext().getPrivileged()).isFalse();
        assertThat(c.getSecurityContext().getCapabilities().getAdd()).contains("SYS_PTRACE", "KILL", "SYS_ADMIN");
        assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        Map<String, String> fields = new HashMap<>();
        c.getEnv().stream().filter(e -> e.getValueFrom() != null && e.getValueFrom().getFieldRef() != null)
                .forEach(e -> fields.put(e.getName(), e.getValueFrom().getFieldRef().getFieldPath()));
        assertThat(fields).containsEntry("KDIAG_NODE_NAME", "spec.nodeName");
    }

    /** A container's environment: its envFrom ConfigMaps' data, then its own env (which wins, as in Kubernetes). */
    static Map<String, String> environment(Rendered r, Container c) {
        Map<String, String> env = new HashMap<>();
        for (EnvFromSource from : c.getEnvFrom()) {
            if (from.getConfigMapRef() != null) {
                r.configMap(from.getConfigMapRef().getName()).map(ConfigMap::getData).ifPresent(env::putAll);
            }
        }
        for (EnvVar e : c.getEnv()) {
            env.put(e.getName(), e.getValue());
        }
        return env;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> labels(Map<String, Object> resource) {
        return (Map<String, Object>) ((Map<String, Object>) resource.get("metadata")).get("labels");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> spec(Map<String, Object> resource) {
        return (Map<String, Object>) resource.get("spec");
    }
}
