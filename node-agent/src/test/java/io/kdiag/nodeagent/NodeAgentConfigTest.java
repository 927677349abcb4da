package io.kdiag.nodeagent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import io.kdiag.common.config.ConfigException;
import io.kdiag.common.config.ConfigKey;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kubernetes.KubernetesConnection;
import io.kdiag.nodeagent.run.EvidenceBudget;
import org.junit.jupiter.api.Test;

class NodeAgentConfigTest {

    @Test
    void shouldApplyTheDefaults() {
        NodeAgentConfig config = NodeAgentConfig.from(ConfigSource.of(Map.of(), Map.of("KDIAG_NODE_NAME", "node-a")));

        assertThat(config.nodeName()).isEqualTo("node-a");
        assertThat(config.hostRoot()).isEqualTo(Path.of("/"));
        assertThat(config.commandAllowlist()).isEmpty();
        assertThat(config.builtinNamespace()).isEqualTo("kube-diagnoser");
        assertThat(config.stateDir()).isEqualTo(Path.of("/var/lib/kube-diagnoser"));
        assertThat(config.maxContextBytes()).isEqualTo(524_288);
        assertThat(config.topicPrefix()).isEqualTo("kdiag.");
        assertThat(config.partitions()).isEqualTo(12);
        assertThat(config.kubernetes()).isEqualTo(KubernetesConnection.Mode.AUTO);
        assertThat(config.httpPort()).isEqualTo(8090);
        assertThat(config.policyFile()).isNull();
        assertThat(config.policyReloadInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.evidenceLimits()).isEqualTo(new EvidenceBudget.Limits(16 << 20, 64 << 20, 256 << 20));
        assertThat(config.advertiseAddress()).isNotBlank();
    }

    @Test
    void shouldReadTheRuntimeKeys() {
        NodeAgentConfig config = NodeAgentConfig.from(ConfigSource.of(Map.of("kdiag.node-name", "n", "kdiag.kubernetes", "Off",
                "kdiag.http-port", "0", "kdiag.policy-file", "/etc/kdiag/policy.yaml", "kdiag.advertise-address", "10.1.2.3"), Map.of()));

        assertThat(config.kubernetes()).isEqualTo(KubernetesConnection.Mode.OFF);
        assertThat(config.httpPort()).isZero();
        assertThat(config.policyFile()).isEqualTo(Path.of("/etc/kdiag/policy.yaml"));
        assertThat(config.advertiseAddress()).isEqualTo("10.1.2.3");
        assertThatThrownBy(() -> NodeAgentConfig.from(ConfigSource.of(Map.of("kdiag.node-name", "n", "kdiag.kubernetes", "maybe"), Map.of())))
                .isInstanceOf(ConfigException.class).hasMessageContaining("kdiag.kubernetes").hasMessageContaining("auto, on or off");
    }

    @Test
    void shouldReadTheFileAndLetTheEnvironmentWin() {
        NodeAgentConfig config = NodeAgentConfig.from(ConfigSource.of(
                Map.of("kdiag.node-name", "file-node", "kdiag.command-allowlist", "df, /usr/bin/uptime", "kdiag.max-context-bytes", "4096"),
                Map.of("KDIAG_NODE_NAME", "env-node")));

        assertThat(config.nodeName()).isEqualTo("env-node");
        assertThat(config.commandAllowlist()).containsExactly("df", "/usr/bin/uptime");
        assertThat(config.maxContextBytes()).isEqualTo(4096);
    }

    @Test
    void shouldNameAMissingOrInvalidKey() {
        assertThatThrownBy(() -> NodeAgentConfig.from(ConfigSource.of(Map.of(), Map.of())))
                .isInstanceOf(ConfigException.class).hasMessageContaining("kdiag.node-name");
        assertThatThrownBy(() -> NodeAgentConfig.from(ConfigSource.of(Map.of("kdiag.node-name", "n", "kdiag.max-context-bytes", "x"), Map.of())))
                .isInstanceOf(ConfigException.class).hasMessageContaining("kdiag.max-context-bytes");
    }

    @Test
    void shouldListItsKeysAndTheCommonOnes() {
        assertThat(NodeAgentConfig.keys()).extracting(ConfigKey::name).contains("kdiag.node-name", "kdiag.host-root",
                "kdiag.command-allowlist", "kdiag.builtin-namespace", "kdiag.state-dir",
                "kdiag.max-context-bytes", "kdiag.kubernetes", "kdiag.http-port", "kdiag.advertise-address", "kdiag.policy-file",
                "kdiag.policy-reload-interval", "kdiag.evidence.max-value-bytes", "kdiag.evidence.max-abnormal-bytes",
                "kdiag.evidence.max-node-bytes-per-day", "kdiag.artifact-sweep-interval",
                "kdiag.topic-prefix", "kdiag.partitions", "kdiag.metrics-port");
    }
}
