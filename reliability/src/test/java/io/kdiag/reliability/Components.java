package io.kdiag.reliability;

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
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** The pipeline's components started in this JVM, configured as their {@code kdiag.*} keys say. */
final class Components {
    private Components() {
    }

    static Map<String, Object> kafka(String bootstrapServers) {
        return new HashMap<>(Map.of("bootstrap.servers", bootstrapServers));
    }

    private static ConfigSource config(Map<String, String> defaults, String... settings) {
        Map<String, String> properties = new HashMap<>(defaults);
        for (int i = 0; i < settings.length; i += 2) {
            properties.put(settings[i], settings[i + 1]);
        }
        return ConfigSource.of(properties, Map.of());
    }

    /** A node agent without a cluster; {@code settings} are {@code kdiag.*} key/value pairs that override. */
    static NodeAgent agent(String bootstrapServers, Path stateDir, String node, String... settings) {
        return agent(kafka(bootstrapServers), stateDir, node, settings);
    }

    /** A node agent without a cluster, with these Kafka client settings (SASL, say). */
    static NodeAgent agent(Map<String, Object> kafka, Path stateDir, String node, String... settings) {
        return NodeAgent.start(NodeAgentConfig.from(config(Map.of("kdiag.node-name", node, "kdiag.state-dir", stateDir.toString(),
                "kdiag.kubernetes", "off", "kdiag.http-port", "0", "kdiag.advertise-address", "127.0.0.1"), settings)),
                kafka, new SimpleMeterRegistry());
    }

    /** A source bridge without a cluster, storm limits out of the way. */
    static SourceBridge bridge(String bootstrapServers, MeterRegistry registry, String... settings) {
        return bridge(kafka(bootstrapServers), registry, settings);
    }

    /** A source bridge without a cluster, with these Kafka client settings. */
    static SourceBridge bridge(Map<String, Object> kafka, MeterRegistry registry, String... settings) {
        return SourceBridge.start(SourceBridgeConfig.from(config(Map.of("kdiag.kubernetes", "off", "kdiag.http-port", "0",
                "kdiag.storm.per-node-per-minute", "100000", "kdiag.storm.cluster-per-minute", "100000"), settings)),
                kafka, registry);
    }

    /** A status writer writing to {@code kube}'s Abnormal resources, or to none with {@code null}. */
    static StatusWriter writer(String bootstrapServers, Path stateDir, KubernetesClient kube, String... settings) {
        return writer(kafka(bootstrapServers), stateDir, kube, settings);
    }

    /** A status writer with these Kafka client settings. */
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
