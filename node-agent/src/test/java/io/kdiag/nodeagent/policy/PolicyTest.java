package io.kdiag.nodeagent.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.kdiag.schemas.avro.Origin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyTest {
    private static final String POLICY = """
            commandAllowlist: [df, /usr/bin/uptime]
            allowedSignals: [15]
            maxTimeoutSeconds: 20
            maxOutputBytes: 4096
            grants:
              - namespaces: [team-*]
                origins: [CustomResource]
                processors: [kube-diagnoser/*, team-a/my-diagnoser]
                commands: [df]
                profilers: [java]
              - origins: [IngestTopic]
                processors: [kube-diagnoser/process-collector]
            """;
    private final long self = ProcessHandle.current().pid();

    @TempDir
    Path dir;

    private static Policy policy() {
        return Policy.parse(POLICY, "policy.yaml");
    }

    @Test
    void shouldGrantProcessorsPerNamespaceAndOrigin() {
        Policy policy = policy();

        assertThat(policy.processor("team-a", Origin.CustomResource, "kube-diagnoser", "signal-recoverer")).isNull();
        assertThat(policy.processor("team-b", Origin.CustomResource, "team-a", "my-diagnoser")).isNull();
        assertThat(policy.processor("default", Origin.IngestTopic, "kube-diagnoser", "process-collector")).isNull();
        assertThat(policy.processor("default", Origin.IngestTopic, "kube-diagnoser", "signal-recoverer"))
                .isEqualTo("no grant of policy policy.yaml allows processor kube-diagnoser/signal-recoverer for namespace default and origin IngestTopic");
        assertThat(policy.processor("team-a", Origin.Log, "kube-diagnoser", "process-collector")).contains("origin Log");
        assertThat(policy.processor("default", Origin.CustomResource, "kube-diagnoser", "process-collector")).contains("namespace default");
    }

    @Test
    void shouldRunOnlyAllowlistedAndGrantedCommands() {
        Policy policy = policy();

        assertThat(policy.command("team-a", Origin.CustomResource, "df")).isNull();
        assertThat(policy.command("team-a", Origin.CustomResource, "rm")).isEqualTo("rm is not in the commandAllowlist of policy policy.yaml");
        assertThat(policy.command("team-a", Origin.CustomResource, "/usr/bin/uptime"))
                .isEqualTo("no grant of policy policy.yaml allows command /usr/bin/uptime for namespace team-a and origin CustomResource");
        assertThat(policy.command("default", Origin.IngestTopic, "df")).contains("no grant");
        assertThat(policy.commandAllowlist()).containsExactly("df", "/usr/bin/uptime");
    }

    @Test
    void shouldGrantProfilersByLanguage() {
        Policy policy = policy();

        assertThat(policy.profiler("team-a", Origin.CustomResource, "java")).isNull();
        assertThat(policy.profiler("team-a", Origin.CustomResource, "python"))
                .isEqualTo("no grant of policy policy.yaml allows python profilers for namespace team-a and origin CustomResource");
    }

    @Test
    void shouldAllowOnlyTheListedSignalsAndNeverPidOneOrTheAgentOrItsAncestors() {
        Policy policy = policy();
        long parent = ProcessHandle.current().parent().orElseThrow().pid();

        assertThat(policy.signal(999_999, 15, self)).isNull();
        assertThat(policy.signal(999_999, 9, self)).isEqualTo("signal 9 is not in the allowedSignals [15] of policy policy.yaml");
        assertThat(policy.signal(999_999, 0, self)).isNull();
        assertThat(policy.signal(1, 15, self)).isEqualTo("pid 1 is never signalled");
        assertThat(policy.signal(self, 15, self)).contains("is the agent or one of its ancestors");
        assertThat(policy.signal(parent, 15, self)).contains("is the agent or one of its ancestors");
        assertThat(policy.signals(List.of(java.util.Map.of("pid", 999_999, "signal", 15), java.util.Map.of("pid", 999_998, "signal", 2)), self))
                .contains("signal 2");
    }

    @Test
    void shouldCapTimeoutsAndOutput() {
        Policy policy = policy();

        assertThat(policy.timeoutSeconds(60, 30)).isEqualTo(20);
        assertThat(policy.timeoutSeconds(null, 10)).isEqualTo(10);
        assertThat(policy.maxOutputBytes()).isEqualTo(4096);
        assertThat(Policy.defaults(List.of()).timeoutSeconds(600, 30)).isEqualTo(600);
    }

    @Test
    void shouldDenyCommandsByDefaultButHonourTheAllowlistKeyAndDefaultSignals() {
        assertThat(Policy.defaults(List.of()).command("default", Origin.IngestTopic, "echo")).contains("not in the commandAllowlist");
        Policy local = Policy.defaults(List.of("echo"));
        assertThat(local.command("default", Origin.IngestTopic, "echo")).isNull();
        assertThat(local.processor("any", Origin.Log, "team", "remote")).isNull();
        assertThat(local.profiler("any", Origin.Log, "go")).isNull();
        assertThat(local.signal(999_999, 9, self)).isNull();
        assertThat(local.signal(999_999, 11, self)).contains("allowedSignals [1, 2, 9, 15]");
    }

    @Test
    void shouldReadJsonAndNameWhatIsInvalid() {
        assertThat(Policy.parse("{\"commandAllowlist\": [\"df\"], \"grants\": [{\"commands\": [\"df\"]}]}", "p.json")
                .command("x", Origin.Log, "df")).isNull();
        assertThatThrownBy(() -> Policy.parse("grants: [{origin: [Log]}]", "p")).hasMessageContaining("unknown field grants[0].origin");
        assertThatThrownBy(() -> Policy.parse("grants: [{origins: [Email]}]", "p")).hasMessageContaining("unknown origin Email");
        assertThatThrownBy(() -> Policy.parse("grants: [{processors: [nonamespace]}]", "p")).hasMessageContaining("namespace/name");
        assertThatThrownBy(() -> Policy.parse("allowedSignals: [99]", "p")).hasMessageContaining("99 is not a signal");
        assertThatThrownBy(() -> Policy.parse("commandAllowlist: [bin/x]", "p")).hasMessageContaining("bare name or an absolute path");
        assertThatThrownBy(() -> Policy.parse("[1, 2", "p")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldReloadAChangedFileAndKeepThePolicyWhenTheNewOneIsInvalid() throws Exception {
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, "commandAllowlist: [df]\ngrants: [{commands: [df]}]\n");
        PolicyHolder holder = PolicyHolder.of(file);
        assertThat(holder.get().command("x", Origin.Log, "df")).isNull();
        assertThat(holder.reloadIfChanged()).isFalse();

        Files.writeString(file, "commandAllowlist: [uptime]\ngrants: [{commands: [uptime]}]\n");
        assertThat(holder.reloadIfChanged()).isTrue();
        assertThat(holder.get().command("x", Origin.Log, "df")).contains("not in the commandAllowlist");
        assertThat(holder.get().command("x", Origin.Log, "uptime")).isNull();

        Files.writeString(file, "grants: [{origins: [Nowhere]}]\n");
        assertThat(holder.reloadIfChanged()).isFalse();
        assertThat(holder.get().command("x", Origin.Log, "uptime")).isNull();

        Files.delete(file);
        assertThat(holder.reloadIfChanged()).isFalse();
        assertThat(holder.get().command("x", Origin.Log, "uptime")).isNull();
    }

    @Test
    void shouldReadTheShippedPolicy() throws Exception {
        io.fabric8.kubernetes.api.model.ConfigMap shipped = new io.fabric8.kubernetes.client.utils.KubernetesSerialization()
                .unmarshal(Files.readString(Path.of("..", "deploy", "base", "node-agent-policy.yml")), io.fabric8.kubernetes.api.model.ConfigMap.class);

        Policy policy = Policy.parse(shipped.getData().get("policy.yaml"), "node-agent-policy.yml");

        assertThat(policy.processor("default", Origin.IngestTopic, "kube-diagnoser", "process-collector")).isNull();
        assertThat(policy.processor("default", Origin.IngestTopic, "kube-diagnoser", "signal-recoverer")).isNotNull();
        assertThat(policy.command("default", Origin.CustomResource, "uptime")).isNotNull();
        assertThat(policy.timeoutSeconds(600, 30)).isEqualTo(60);
    }

    @Test
    void shouldRefuseToStartOnAnInvalidFile() throws Exception {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "maxTimeoutSeconds: 0\n");

        assertThatThrownBy(() -> PolicyHolder.of(file)).hasMessageContaining("invalid policy file").hasMessageContaining("maxTimeoutSeconds");
        assertThatThrownBy(() -> PolicyHolder.of(dir.resolve("missing.yaml"))).hasMessageContaining("cannot read the policy file");
    }
}
