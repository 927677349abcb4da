package io.kdiag.stageworkers.builtin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.TestNodes;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;
import org.junit.jupiter.api.Test;

class ProcessMatchDiagnoserTest {
    private static final int AGENT_PID = 500;
    private final ProcessMatchDiagnoser diagnoser = new ProcessMatchDiagnoser();

    private static Map<String, Object> process(int pid, String... command) {
        return Map.of("pid", pid, "command", List.of(command));
    }

    private static final List<Object> PROCESSES = List.of(
            process(1, "/sbin/init", "stuck-worker"),
            process(AGENT_PID, "java", "stuck-worker"),
            process(77, "python", "stuck-worker", "--flag"),
            process(78, "python", "healthy"));

    private static WorkContext context(Map<String, Object> specContext, Map<String, Object> statusContext) {
        AbnormalSpec spec = new AbnormalSpec();
        spec.context = specContext;
        return new WorkContext("u", "ns", "n", "node", spec, statusContext, TestNodes.at(HostPaths.of(Path.of("/")), AGENT_PID));
    }

    @Test
    void shouldMatchOutsidePidOneAndTheAgentAndAskForTheDefaultSignal() {
        WorkResult result = diagnoser.run(context(Map.of("processMatch", Map.of("commandPattern", "stuck-worker --f")),
                Map.of("processInformation", PROCESSES)));

        assertThat(result.succeeded()).isTrue();
        assertThat(result.contextUpdates().get("processMatchDiagnosis")).isEqualTo(List.of(PROCESSES.get(2)));
        assertThat(result.contextUpdates().get("signalRecovery")).isEqualTo(List.of(Map.of("pid", 77L, "signal", 15L)));
        assertThat(result.removedKeys()).containsExactly("processInformation");
    }

    @Test
    void shouldPreferTheSpecContextAndHonourTheSignal() {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("processMatch", Map.of("commandPattern", "healthy"));
        status.put("processInformation", PROCESSES);

        WorkResult result = diagnoser.run(context(Map.of("processMatch", Map.of("commandPattern", "^python", "signal", 9)), status));

        assertThat(result.contextUpdates().get("signalRecovery"))
                .isEqualTo(List.of(Map.of("pid", 77L, "signal", 9L), Map.of("pid", 78L, "signal", 9L)));
    }

    @Test
    void shouldFailWhenNothingMatches() {
        WorkResult result = diagnoser.run(context(Map.of("processMatch", Map.of("commandPattern", "/sbin/init")),
                Map.of("processInformation", PROCESSES)));

        assertThat(result.succeeded()).isFalse();
        assertThat(result.reason()).isEqualTo("NoMatchingProcess");
    }

    @Test
    void shouldNameTheMissingInput() {
        WorkResult noPattern = diagnoser.run(context(null, Map.of("processInformation", PROCESSES)));
        WorkResult noProcesses = diagnoser.run(context(Map.of("processMatch", Map.of("commandPattern", "x")), Map.of()));

        assertThat(noPattern.reason()).isEqualTo("MissingInput");
        assertThat(noPattern.message()).contains("processMatch");
        assertThat(noProcesses.reason()).isEqualTo("MissingInput");
        assertThat(noProcesses.message()).contains("processInformation");
    }

    @Test
    void shouldRefuseAnInvalidPattern() {
        WorkResult result = diagnoser.run(context(Map.of("processMatch", Map.of("commandPattern", "(")),
                Map.of("processInformation", PROCESSES)));

        assertThat(result.reason()).isEqualTo("InvalidInput");
        assertThat(result.message()).isEqualTo("processMatch.commandPattern is not a valid RE2 regular expression: "
                + "error parsing regexp: missing closing ): `(`");
    }

    @Test
    void shouldMatchAPathologicalPatternInLinearTime() {
        // searching a*a*a*a*a*a*b in a run of a's takes a backtracking engine (java.util.regex) time in the 7th power of its
        // length (3 s for 50 characters), so this call would not return; RE2 takes time linear in it
        Map<String, Object> process = Map.of("pid", 4242, "command", List.of("a".repeat(100_000)));
        WorkResult result = diagnoser.run(context(Map.of("processMatch", Map.of("commandPattern", "a*a*a*a*a*a*b")),
                Map.of("processInformation", List.of(process))));

        assertThat(result.reason()).isEqualTo("NoMatchingProcess");
    }
}
