package io.kdiag.sourcebridge.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import io.kdiag.api.v1.PrometheusAlert;
import io.kdiag.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RuleFilesTest {
    private static final Path EXAMPLE_RULES = Path.of("../examples/rules");

    @TempDir
    Path dir;

    @Test
    void shouldLoadTheShippedExampleRulesAndMatchTheirAlert() {
        RuleBook book = new RuleBook(null, ZoneOffset.UTC);
        List<RuleFiles.Rule> rules = RuleFiles.read(List.of(EXAMPLE_RULES));
        rules.forEach(book::load);

        assertThat(rules).extracting(r -> r.resource().getMetadata().getName()).contains("node-high-load");
        assertThat(book.firstMatching(alert("NodeHighLoad"))).get().extracting(SourceRule::key).isEqualTo("default/node-high-load");
        assertThat(book.firstMatching(alert("NodeHighLoadAverage"))).as("the example's pattern is anchored").isEmpty();
    }

    @Test
    void shouldReadEveryDocumentOfEveryRuleFileOfAFolderInNameOrder() throws IOException {
        Files.writeString(dir.resolve("b.yaml"), rule("b-one", "B") + "---\n" + rule("b-two", "B2"));
        Files.writeString(dir.resolve("a.yml"), rule("a-one", "A"));
        Files.writeString(dir.resolve("notes.txt"), "not a rule");

        assertThat(RuleFiles.read(List.of(dir))).extracting(r -> r.resource().getMetadata().getName())
                .containsExactly("a-one", "b-one", "b-two");
        assertThat(RuleFiles.read(List.of(dir)).get(0).resource().getMetadata().getNamespace()).as("namespace defaults").isEqualTo("default");
    }

    @Test
    void shouldSayWhyNoAlertRuleMatched() throws IOException {
        RuleBook book = new RuleBook(null, ZoneOffset.UTC);
        assertThat(book.whyNoAlertRuleMatched()).startsWith("no PrometheusAlert rule is loaded");

        Files.writeString(dir.resolve("r.yaml"), rule("disk-full", "DiskFull"));
        RuleFiles.read(List.of(dir)).forEach(book::load);
        assertThat(book.whyNoAlertRuleMatched()).isEqualTo("none of the 1 PrometheusAlert rule(s) matched: default/disk-full");
    }

    @Test
    void shouldRefuseWhatIsNotAnAbnormalSourceNamingTheFileAndDocument() throws IOException {
        Path pod = dir.resolve("pod.yaml");
        Files.writeString(pod, rule("ok", "A") + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n");
        assertThatThrownBy(() -> RuleFiles.read(List.of(pod))).isInstanceOf(ConfigException.class)
                .hasMessage("rule file " + pod + ", document 2: must be apiVersion diagnosis.netease.com/v1, kind AbnormalSource, not v1, Pod");

        Path nameless = dir.resolve("nameless.yaml");
        Files.writeString(nameless, rule("x", "A").replace("name: x", "labels: {}"));
        assertThatThrownBy(() -> RuleFiles.read(List.of(nameless))).hasMessageEndingWith("document 1: metadata.name is required");

        Path twice = dir.resolve("twice.yaml");
        Files.writeString(twice, rule("same", "A") + "---\n" + rule("same", "B"));
        assertThatThrownBy(() -> RuleFiles.read(List.of(twice))).hasMessageContaining("the AbnormalSource default/same is defined twice");

        assertThatThrownBy(() -> RuleFiles.read(List.of(dir.resolve("missing.yaml")))).hasMessageEndingWith("missing.yaml does not exist");
    }

    @Test
    void shouldRefuseToLoadARuleThatCannotBeUsedWithTheReasonACrWouldGet() throws IOException {
        Path broken = dir.resolve("broken.yaml");
        Files.writeString(broken, rule("broken", "(Disk"));
        RuleFiles.Rule rule = RuleFiles.read(List.of(broken)).get(0);

        assertThatThrownBy(() -> new RuleBook(null, ZoneOffset.UTC).load(rule)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(broken + " (AbnormalSource default/broken) cannot be used: ")
                .hasMessageContaining("missing closing )");
    }

    private static String rule(String name, String alertName) {
        return """
                apiVersion: diagnosis.netease.com/v1
                kind: AbnormalSource
                metadata:
                  name: %s
                spec:
                  sourceTemplate:
                    type: PrometheusAlert
                    prometheusAlertTemplate:
                      regexp: {alertName: "%s"}
                      nodeNameReferenceLabel: node
                """.formatted(name, alertName);
    }

    private static PrometheusAlert alert(String name) {
        PrometheusAlert alert = new PrometheusAlert();
        alert.labels = Map.of("alertname", name, "node", "node-1");
        alert.annotations = Map.of();
        return alert;
    }
}
