package io.kdiag.reliability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.NamespacedName;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.nodeagent.NodeAgentConfig;
import io.kdiag.sourcebridge.SourceBridge;
import io.kdiag.sourcebridge.SourceBridgeConfig;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.statuswriter.StatusWriterConfig;
import io.kdiag.testkit.TestKeys;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The pipeline's components started in this JVM, configured as their {@code kdiag.*} keys say. The bridge signs with
 * the test key ({@link TestKeys}) and agents verify with it; unless a test gives its own, an agent runs under
 * {@link #GRANTING_EVERYTHING}, since these tests are about what survives faults, not about the policy.
 */
final class Components {
    /** A policy for tests of something else: every processor and profiler, signals 1, 2, 9 and 15, for every origin. */
    static final String GRANTING_EVERYTHING = """
            grants: [{processors: ["*"], profilers: ["*"]}]
            """;

    private Components() {
    }

    /** An agent's {@code kdiag.*} trust settings: the test key, and {@link #GRANTING_EVERYTHING} written into its state folder. */
    static Map<String, String> agentTrust(Path stateDir) {
        return Map.of("kdiag.verification-keys", TestKeys.verificationKeyFile().toString(), "kdiag.policy-file", policyIn(stateDir));
    }

    /** The same as environment variables, for an agent run as a process. */
    static Map<String, String> agentTrustEnvironment(Path stateDir) {
        return Map.of("KDIAG_VERIFICATION_KEYS", TestKeys.verificationKeyFile().toString(), "KDIAG_POLICY_FILE", policyIn(stateDir));
    }

    private static String policyIn(Path stateDir) {
        try {
            Files.createDirectories(stateDir);
            return Files.writeString(stateDir.resolve("policy.yaml"), GRANTING_EVERYTHING).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The bridge's signing key as an environment variable, for a bridge run as a process. */
    static Map<String, String> bridgeTrustEnvironment() {
        return Map.of("KDIAG_SIGNING_KEY", TestKeys.signingKeyFile().toString());
    }

    /** Kafka client settings of a broker without authentication (TestKafka). */
    static Map<String, Object> kafka(String bootstrapServers) {
        return Map.of("bootstrap.servers", bootstrapServers);
    }

    private static ConfigSource config(Map<String, String> defaults, String... settings) {
        Map<String, String> properties = new HashMap<>(defaults);
        for (int i = 0; i < settings.length; i += 2) {
            properties.put(settings[i], settings[i + 1]);
        }
        return ConfigSource.of(properties, Map.of());
    }

    /**
     * A node agent without a cluster, with these Kafka client settings (a login, say); {@code settings} are
     * {@code kdiag.*} key/value pairs that override.
     */
    static NodeAgent agent(Map<String, Object> kafka, Path stateDir, String node, String... settings) {
        return agent(kafka, stateDir, node, new SimpleMeterRegistry(), settings);
    }

    /** A node agent without a cluster, its meters in {@code registry}. */
    static NodeAgent agent(Map<String, Object> kafka, Path stateDir, String node, MeterRegistry registry, String... settings) {
        Map<String, String> defaults = new HashMap<>(agentTrust(stateDir));
        defaults.putAll(Map.of("kdiag.node-name", node, "kdiag.state-dir", stateDir.toString(),
                "kdiag.kubernetes", "off", "kdiag.http-port", "0"));
        return NodeAgent.start(NodeAgentConfig.from(config(defaults, settings)), kafka, registry);
    }

    /** A source bridge without a cluster, storm limits out of the way, with these Kafka client settings. */
    static SourceBridge bridge(Map<String, Object> kafka, MeterRegistry registry, String... settings) {
        return SourceBridge.start(SourceBridgeConfig.from(config(Map.of("kdiag.kubernetes", "off", "kdiag.http-port", "0",
                "kdiag.storm.per-node-per-minute", "100000", "kdiag.storm.cluster-per-minute", "100000",
                "kdiag.signing-key", TestKeys.signingKeyFile().toString()), settings)), kafka, registry);
    }

    /** A status writer writing to {@code kube}'s Abnormal resources, or to none with {@code null}. */
    static StatusWriter writer(Map<String, Object> kafka, Path stateDir, KubernetesClient kube, String... settings) {
        return StatusWriter.start(StatusWriterConfig.from(config(Map.of("kdiag.state-dir", stateDir.toString(),
                "kdiag.http-port", "0", "kdiag.kubernetes", kube == null ? "off" : "on",
                "kdiag.status-writes-per-second", "500"), settings)), kafka, new SimpleMeterRegistry(), kube);
    }

    /** An Abnormal for {@code node} running the side-effect collector, then (unless {@code recover} is false) the recoverer. */
    static Abnormal abnormal(String name, String node, boolean recover) {
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = node;
        spec.assignedInformationCollectors = List.of(SideEffects.COLLECTOR_REF);
        spec.assignedRecoverers = recover ? List.of(SideEffects.RECOVERER_REF) : List.of();
        spec.skipRecovery = !recover;
        return abnormal(name, "default", spec);
    }

    static Abnormal abnormal(String name, String namespace, AbnormalSpec spec) {
        Abnormal abnormal = new Abnormal();
        abnormal.getMetadata().setName(name);
        abnormal.getMetadata().setNamespace(namespace);
        abnormal.setSpec(spec);
        return abnormal;
    }

    static NamespacedName builtin(String name) {
        return new NamespacedName("kube-diagnoser", name);
    }
}
