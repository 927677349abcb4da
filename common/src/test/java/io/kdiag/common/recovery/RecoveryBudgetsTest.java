package io.kdiag.common.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

import io.kdiag.common.recovery.RecoveryBudgets.Budget;
import io.kdiag.common.recovery.RecoveryBudgets.OnExceeded;
import io.kdiag.common.recovery.RecoveryBudgets.Per;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RecoveryBudgetsTest {
    private static final String EXAMPLE = """
            budgets:
            - name: signals-per-namespace
              recoverers: [kube-diagnoser/signal-recoverer]
              per: [namespace]
              maxRecoveries: 5
              window: 10m
            - name: nodes-at-once
              namespaces: [prod]
              maxNodesInRecovery: 3
              onExceeded: Wait
            maxWait: 2m
            """;

    @Test
    void shouldReadBothKindsOfBudgetWithTheirDefaults() {
        RecoveryBudgets budgets = RecoveryBudgets.parse(EXAMPLE);

        Budget perNamespace = budgets.budgets().get(0);
        assertThat(perNamespace.windowed()).isTrue();
        assertThat(perNamespace.limit()).isEqualTo(5);
        assertThat(perNamespace.window()).isEqualTo(Duration.ofMinutes(10));
        assertThat(perNamespace.onExceeded()).isEqualTo(OnExceeded.Fail);
        assertThat(perNamespace.namespaces()).containsExactly("*");
        assertThat(perNamespace.per()).isEqualTo(Set.of(Per.namespace));
        assertThat(perNamespace.describeLimit()).isEqualTo("5 recoveries per 10m");
        Budget atOnce = budgets.budgets().get(1);
        assertThat(atOnce.windowed()).isFalse();
        assertThat(atOnce.limit()).isEqualTo(3);
        assertThat(atOnce.recoverers()).containsExactly("*");
        assertThat(atOnce.onExceeded()).isEqualTo(OnExceeded.Wait);
        assertThat(budgets.maxWait()).isEqualTo(Duration.ofMinutes(2));
        assertThat(budgets.releaseAfter()).isEqualTo(RecoveryBudgets.DEFAULT_RELEASE_AFTER);
    }

    @Test
    void shouldCoverOnlyTheRecoverersAndNamespacesItNamesAndCountApartWhatPerSays() {
        RecoveryBudgets budgets = RecoveryBudgets.parse(EXAMPLE);

        assertThat(budgets.covering("default", "kube-diagnoser", "signal-recoverer")).extracting(Budget::name)
                .containsExactly("signals-per-namespace");
        assertThat(budgets.covering("prod", "kube-diagnoser", "signal-recoverer")).extracting(Budget::name)
                .containsExactly("signals-per-namespace", "nodes-at-once");
        assertThat(budgets.covering("default", "team", "restart")).isEmpty();
        assertThat(budgets.budgets().get(0).countKey("default", "kube-diagnoser", "signal-recoverer"))
                .isEqualTo("signals-per-namespace namespace=default");
        assertThat(budgets.budgets().get(1).countKey("prod", "kube-diagnoser", "signal-recoverer")).isEqualTo("nodes-at-once");
    }

    @Test
    void shouldMatchRecovererPatternsWithAWildcardOnEitherSide() {
        RecoveryBudgets budgets = RecoveryBudgets.parse("""
                budgets:
                - {name: a, recoverers: ["team/*"], maxNodesInRecovery: 1}
                - {name: b, recoverers: ["*/restart"], maxNodesInRecovery: 1}
                """);

        assertThat(budgets.covering("x", "team", "kill")).extracting(Budget::name).containsExactly("a");
        assertThat(budgets.covering("x", "other", "restart")).extracting(Budget::name).containsExactly("b");
        assertThat(budgets.covering("x", "other", "kill")).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "budgets: []|budgets must be a non-empty list",
        "budgets: [{name: a, maxNodesInRecovery: 1}]\\nwindows: 1|windows is not a known field",
        "budgets: [{name: A, maxNodesInRecovery: 1}]|budgets[0].name must be a name of lower-case letters",
        "budgets: [{name: a, maxNodesInRecovery: 1}, {name: a, maxNodesInRecovery: 2}]|budgets[1].name: a is used twice",
        "budgets: [{name: a}]|budget a must have either maxRecoveries with window, or maxNodesInRecovery",
        "budgets: [{name: a, maxNodesInRecovery: 1, maxRecoveries: 2, window: 1m}]|budget a must have either",
        "budgets: [{name: a, maxRecoveries: 2}]|budget a: maxRecoveries and window go together",
        "budgets: [{name: a, maxRecoveries: 0, window: 1m}]|budget a: maxRecoveries must be a whole number of at least 1",
        "budgets: [{name: a, maxRecoveries: 2, window: soon}]|budget a: window: soon is not a duration",
        "budgets: [{name: a, maxNodesInRecovery: 1, onExceeded: Retry}]|budget a: onExceeded: Retry is not one of Fail, Wait",
        "budgets: [{name: a, maxNodesInRecovery: 1, per: [node]}]|budget a: per: node is not one of namespace, recoverer",
        "budgets: [{name: a, maxNodesInRecovery: 1, recoverers: [signal-recoverer]}]|budget a: recoverers: signal-recoverer must be namespace/name",
        "budgets: [{name: a, maxNodesInRecovery: 1, namespaces: []}]|budget a: namespaces must be a non-empty list of strings",
        "budgets: [{name: a, maxNodesInRecovery: 1}]\\nmaxWait: 0s|maxWait: 0s is not a duration",
        "- 1|not a YAML or JSON object",
    })
    void shouldRefuseAnInvalidFileNamingTheField(String text, String message) {
        assertThatThrownBy(() -> RecoveryBudgets.parse(text.replace("\\n", "\n")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void shouldNameTheFileThatCannotBeRead(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("budgets.yml");
        assertThatThrownBy(() -> RecoveryBudgets.read(file)).hasMessageContaining("cannot read the recovery budget file " + file);
        Files.writeString(file, "budgets: [{name: a}]");
        assertThatThrownBy(() -> RecoveryBudgets.read(file)).hasMessageContaining("invalid recovery budget file " + file + ": budget a");
    }
}
