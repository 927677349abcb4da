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
import io.kdiag.stageworkers.WorkerCatalog;
import org.junit.jupiter.api.Test;

class NodeAgentConfigTest {

    @Test
    void shouldApplyTheDefaults() {
        NodeAgentConfig config = NodeAgentConfig.from(ConfigSource.of(Map.of(), Map.of("KDIAG_NODE_NAME", "node-a",
                "KDIAG_VERIFICATION_KEYS", "/etc/kdiag/verification-keys")));

        assertThat(config.nodeName()).isEqualTo("node-a");
        assertThat(config.hostRoot()).isEqualTo(Path.of("/"));
        assertThat(config.verificationKeys()).containsExactly(Path.of("/etc/kdiag/verification-keys"));
        assertThat(config.logSourceVerificationKeys()).isEmpty();
        assertThat(config.bindAddress()).isEqualTo("0.0.0.0");
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
    }

    @Test
    void shouldReadTheRuntimeKeys() {
        NodeAgentConfig config = NodeAgentConfig.from(ConfigSource.of(Map.of("kdiag.node-name", "n", "kdiag.kubernetes", "Off",
                "kdiag.http-port", "0", "kdiag.policy-file", "/etc/kdiag/policy.yaml",
                "kdiag.verification-keys", "/k/bridge.pub, /k/rotated", "kdiag.bind-address", "127.0.0.1"), Map.of()));

        assertThat(config.kubernetes()).isEqualTo(KubernetesConnection.Mode.OFF);
        assertThat(config.httpPort()).isZero();
        assertThat(config.policyFile()).isEqualTo(Path.of("/etc/kdiag/policy.yaml"));
        assertThat(config.verificationKeys()).containsExactly(Path.of("/k/bridge.pub"), Path.of("/k/rotated"));
        assertThat(config.bindAddress()).isEqualTo("127.0.0.1");
        assertThatThrownBy(() -> NodeAgentConfig.from(ConfigSource.of(Map.of("kdiag.node-name", "n", "kdiag.kubernetes", "maybe",
                "kdiag.verification-keys", "/k"), Map.of())))
                .isInstanceOf(ConfigException.class).hasMessageContaining("kdiag.kubernetes").hasMessageContaining("auto, on or off");
    }

    @Test
    void shouldReadTheFileAndLetTheEnvironmentWin() {
        NodeAgentConfig config = NodeAgentConfig.from(ConfigSource.of(
                Map.of("kdiag.node-name", "file-node", "kdiag.verification-keys", "/file/key.pub", "kdiag.max-context-bytes", "4096"),
                Map.of("KDIAG_NODE_NAME", "env-node")));

        assertThat(config.nodeName()).isEqualTo("env-node");
        assertThat(config.verificationKeys()).containsExactly(Path.of("/file/key.pub"));
        assertThat(config.maxContextBytes()).isEqualTo(4096);
    }

    @Test
    void shouldNameAMissingOrInvalidKey() {
        assertThatThrownBy(() -> NodeAgentConfig.from(ConfigSource.of(Map.of(), Map.of())))
                .isInstanceOf(ConfigException.class).hasMessageContaining("kdiag.node-name");
        assertThatThrownBy(() -> NodeAgentConfig.from(ConfigSource.of(Map.of("kdiag.node-name", "n", "kdiag.max-context-bytes", "x",
                "kdiag.verification-keys", "/k"), Map.of())))
                .isInstanceOf(ConfigException.class).hasMessageContaining("kdiag.max-context-bytes");
        // no key to verify the bridge with: the agent would refuse every record, so it does not start
        assertThatThrownBy(() -> NodeAgentConfig.from(ConfigSource.of(Map.of("kdiag.node-name", "n"), Map.of())))
                .isInstanceOf(ConfigException.class).hasMessageContaining("kdiag.verification-keys");
        assertThatThrownBy(() -> NodeAgentConfig.from(ConfigSource.of(Map.of("kdiag.node-name", "n", "kdiag.verification-keys", " , "), Map.of())))
                .isInstanceOf(ConfigException.class).hasMessageContaining("kdiag.verification-keys must name at least one");
    }

    @Test
    void shouldListItsKeysAndTheCommonOnes() {
        assertThat(NodeAgentConfig.keys()).extracting(ConfigKey::name).contains("kdiag.node-name", "kdiag.host-root",
                "kdiag.verification-keys", "kdiag.log-source-verification-keys", "kdiag.bind-address", "kdiag.builtin-namespace",
                "kdiag.state-dir",
                "kdiag.max-context-bytes", "kdiag.kubernetes", "kdiag.http-port", "kdiag.policy-file",
                "kdiag.policy-reload-interval", "kdiag.evidence.max-value-bytes", "kdiag.evidence.max-abnormal-bytes",
                "kdiag.evidence.max-node-bytes-per-day",
                "kdiag.topic-prefix", "kdiag.partitions", "kdiag.metrics-port");
    }

    @Test
    void shouldGrantByDefaultOnlyTheBuiltInsThatRead() {
        // this class path also holds a plugin's collector (CrashWorkers): found by the catalog, granted by no default
        assertThat(WorkerCatalog.builtIns().find("crash-test-collector")).isPresent();
        assertThat(NodeAgent.readOnlyBuiltIns("kube-diagnoser", WorkerCatalog.builtIns())).containsExactlyInAnyOrder(
                "kube-diagnoser/pod-collector", "kube-diagnoser/container-collector", "kube-diagnoser/process-collector",
                "kube-diagnoser/systemd-collector", "kube-diagnoser/file-status-collector", "kube-diagnoser/pod-disk-usage-diagnoser",
                "kube-diagnoser/terminating-pod-diagnoser", "kube-diagnoser/process-match-diagnoser");
    }
}
