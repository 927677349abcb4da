package io.kdiag.nodeagent.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Stage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyTest {
    private static final String POLICY = """
            commandAllowlist:
              - prefix: [df]
              - prefix: [/usr/bin/uptime]
              - argv: [ip, "a|addr|link", "show"]
            allowedSignals: [15]
            maxTimeoutSeconds: 20
            maxOutputBytes: 4096
            grants:
              - namespaces: [team-*]
                origins: [CustomResource]
                processors: [kube-diagnoser/*, team-a/my-diagnoser]
                commands: [df, ip]
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
    void shouldRunOnlyAllowlistedFormsOfGrantedCommands() {
        Policy policy = policy();

        assertThat(policy.command("team-a", Origin.CustomResource, List.of("df", "-h", "/"))).isNull();
        assertThat(policy.command("team-a", Origin.CustomResource, List.of("ip", "link", "show"))).isNull();
        assertThat(policy.command("team-a", Origin.CustomResource, List.of("ip", "link", "set", "eth0", "down")))
                .isEqualTo("ip link set eth0 down has none of the forms of the commandAllowlist of policy policy.yaml");
        assertThat(policy.command("team-a", Origin.CustomResource, List.of("rm", "-rf", "/")))
                .isEqualTo("rm -rf / has none of the forms of the commandAllowlist of policy policy.yaml");
        assertThat(policy.command("team-a", Origin.CustomResource, List.of("/usr/bin/uptime")))
                .isEqualTo("no grant of policy policy.yaml allows command /usr/bin/uptime for namespace team-a and origin CustomResource");
        assertThat(policy.command("default", Origin.IngestTopic, List.of("df"))).contains("no grant");
        assertThat(policy.command("team-a", Origin.CustomResource, List.of())).isEqualTo("an empty command is never run");
        assertThat(policy.commandAllowlist()).extracting(Object::toString)
                .containsExactly("prefix: [df]", "prefix: [/usr/bin/uptime]", "argv: [ip, a|addr|link, show]");
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
        assertThat(Policy.defaults(List.of()).maxOutputBytes()).isEqualTo(Policy.DEFAULT_MAX_OUTPUT_BYTES);
    }

    @Test
    void shouldDenyByDefaultAllButTheReadOnlyProcessorsToCustomResourcesAndTheIngestTopic() {
        Policy defaults = Policy.defaults(List.of("kube-diagnoser/process-collector", "kube-diagnoser/process-match-diagnoser"));

        for (Origin origin : List.of(Origin.CustomResource, Origin.IngestTopic)) {
            assertThat(defaults.processor("any", origin, "kube-diagnoser", "process-collector")).isNull();
            assertThat(defaults.processor("any", origin, "kube-diagnoser", "process-match-diagnoser")).isNull();
            assertThat(defaults.processor("any", origin, "kube-diagnoser", "signal-recoverer")).contains("no grant");
            assertThat(defaults.processor("any", origin, "team", "remote")).contains("no grant");
            assertThat(defaults.command("any", origin, List.of("uptime"))).contains("none of the forms");
            assertThat(defaults.profiler("any", origin, "java")).contains("no grant");
        }
        for (Origin origin : List.of(Origin.Unknown, Origin.Log, Origin.KubernetesEvent, Origin.PrometheusAlert)) {
            assertThat(defaults.processor("any", origin, "kube-diagnoser", "process-collector"))
                    .isEqualTo("no grant of the default policy (no kdiag.policy-file) allows processor kube-diagnoser/process-collector "
                            + "for namespace any and origin " + origin);
        }
        assertThat(defaults.signal(999_999, 15, self)).isEqualTo("signal 15 is not in the allowedSignals [] of the default policy (no kdiag.policy-file)");
        assertThat(defaults.signal(999_999, 0, self)).isNull();
        assertThat(Policy.parse("grants: []", "p").signal(999_999, 9, self)).as("a file's default signals").isNull();
    }

    @Test
    void shouldReadJsonAndNameWhatIsInvalid() {
        assertThat(Policy.parse("{\"commandAllowlist\": [{\"prefix\": [\"df\"]}], \"grants\": [{\"commands\": [\"df\"]}]}", "p.json")
                .command("x", Origin.Log, List.of("df"))).isNull();
        assertThatThrownBy(() -> Policy.parse("grants: [{origin: [Log]}]", "p")).hasMessageContaining("unknown field grants[0].origin");
        assertThatThrownBy(() -> Policy.parse("grants: [{origins: [Email]}]", "p")).hasMessageContaining("unknown origin Email");
        assertThatThrownBy(() -> Policy.parse("grants: [{processors: [nonamespace]}]", "p")).hasMessageContaining("namespace/name");
        assertThatThrownBy(() -> Policy.parse("allowedSignals: [99]", "p")).hasMessageContaining("99 is not a signal");
        assertThatThrownBy(() -> Policy.parse("commandAllowlist: [{prefix: [bin/x]}]", "p"))
                .hasMessageContaining("commandAllowlist[0].prefix: bin/x must be a bare name or an absolute path");
        assertThatThrownBy(() -> Policy.parse("commandAllowlist: [uptime]", "p"))
                .hasMessageContaining("commandAllowlist[0]: uptime must be {prefix: [...]} or {argv: [...]}")
                .hasMessageContaining("write {prefix: [uptime]} if every use of it only reads");
        assertThatThrownBy(() -> Policy.parse("commandAllowlist: [{prefix: [df], argv: [df]}]", "p")).hasMessageContaining("exactly one of");
        assertThatThrownBy(() -> Policy.parse("commandAllowlist: [{exact: [df]}]", "p")).hasMessageContaining("unknown field commandAllowlist[0].exact");
        assertThatThrownBy(() -> Policy.parse("commandAllowlist: [{argv: [ip, '(a']}]", "p")).hasMessageContaining("not a regular expression");
        assertThatThrownBy(() -> Policy.parse("[1, 2", "p")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Policy.parse("grants: [{processors: ['*'], requireApproval: 'yes'}]", "p"))
                .hasMessageContaining("grants[0].requireApproval must be true or false");
    }

    @Test
    void shouldReadShadowsByStageAndRunThemBesideTheChainsTheyName() {
        Policy shadows = Policy.parse("""
                shadows:
                  - diagnoser: team-a/anchored-diagnoser
                    beside: [kube-diagnoser/process-match-*]
                  - recoverer: kube-diagnoser/signal-recoverer
                """, "policy.yaml");

        Policy.Shadow diagnoser = shadows.shadows(Stage.Diagnosis).get(0);
        assertThat(shadows.shadows(Stage.Diagnosis)).hasSize(1);
        assertThat(diagnoser.namespace() + "/" + diagnoser.name()).isEqualTo("team-a/anchored-diagnoser");
        assertThat(diagnoser.runsBeside(List.of("kube-diagnoser/process-collector", "kube-diagnoser/process-match-diagnoser"))).isTrue();
        assertThat(diagnoser.runsBeside(List.of("kube-diagnoser/process-collector"))).isFalse();
        assertThat(shadows.shadows(Stage.Recovery)).singleElement()
                .satisfies(r -> assertThat(r.runsBeside(List.of())).isTrue());
        assertThat(shadows.shadows(Stage.InformationCollection)).isEmpty();
        // a shadow grants nothing: the processor still needs a grant
        assertThat(shadows.processor("default", Origin.CustomResource, "team-a", "anchored-diagnoser")).isNotNull();
        assertThat(Policy.defaults(List.of()).shadows(Stage.Recovery)).isEmpty();
    }

    @Test
    void shouldNameWhatIsInvalidInAShadow() {
        assertThatThrownBy(() -> Policy.parse("shadows: [{diagnoser: a/b, recoverer: a/c}]", "p"))
                .hasMessage("shadows[0] must have exactly one of diagnoser or recoverer");
        assertThatThrownBy(() -> Policy.parse("shadows: [{recoverer: team-a/*}]", "p"))
                .hasMessage("shadows[0].recoverer: team-a/* must be namespace/name, without wildcards");
        assertThatThrownBy(() -> Policy.parse("shadows: [{diagnoser: a/b, beside: [x]}]", "p"))
                .hasMessage("shadows[0].beside: x must be namespace/name (either may be *) or *");
        assertThatThrownBy(() -> Policy.parse("shadows: [{diagnoser: a/b, when: always}]", "p"))
                .hasMessageStartingWith("unknown field shadows[0].when");
    }

    @Test
    void shouldReloadAChangedFileAndKeepThePolicyWhenTheNewOneIsInvalid() throws Exception {
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, "commandAllowlist: [{prefix: [df]}]\ngrants: [{commands: [df]}]\n");
        PolicyHolder holder = PolicyHolder.of(file);
        assertThat(holder.get().command("x", Origin.Log, List.of("df"))).isNull();
        assertThat(holder.reloadIfChanged()).isFalse();

        Files.writeString(file, "commandAllowlist: [{prefix: [uptime]}]\ngrants: [{commands: [uptime]}]\n");
        assertThat(holder.reloadIfChanged()).isTrue();
        assertThat(holder.get().command("x", Origin.Log, List.of("df"))).contains("none of the forms");
        assertThat(holder.get().command("x", Origin.Log, List.of("uptime"))).isNull();

        Files.writeString(file, "grants: [{origins: [Nowhere]}]\n");
        assertThat(holder.reloadIfChanged()).isFalse();
        assertThat(holder.get().command("x", Origin.Log, List.of("uptime"))).isNull();

        Files.delete(file);
        assertThat(holder.reloadIfChanged()).isFalse();
        assertThat(holder.get().command("x", Origin.Log, List.of("uptime"))).isNull();
    }

    @Test
    void shouldReadTheShippedPolicy() throws Exception {
        io.fabric8.kubernetes.api.model.ConfigMap shipped = new io.fabric8.kubernetes.client.utils.KubernetesSerialization()
                .unmarshal(Files.readString(Path.of("..", "deploy", "base", "node-agent-policy.yml")), io.fabric8.kubernetes.api.model.ConfigMap.class);

        Policy policy = Policy.parse(shipped.getData().get("policy.yaml"), "node-agent-policy.yml");

        assertThat(policy.processor("default", Origin.IngestTopic, "kube-diagnoser", "process-collector")).isNull();
        assertThat(policy.processor("default", Origin.IngestTopic, "kube-diagnoser", "signal-recoverer")).isNotNull();
        assertThat(policy.command("default", Origin.CustomResource, List.of("uptime"))).isNotNull();
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
