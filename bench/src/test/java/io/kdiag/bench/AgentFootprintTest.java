package io.kdiag.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

class AgentFootprintTest {
    @Test
    void shouldMeasureTheFlagsTheDaemonSetSetsAsTheLastVariant() throws Exception {
        List<String> manifest = Files.readAllLines(Path.of("..", "deploy", "base", "node-agent.yml"));
        int name = manifest.indexOf("        - name: JDK_JAVA_OPTIONS");
        assertThat(name).as("JDK_JAVA_OPTIONS of the node-agent container").isNotNegative();

        assertThat(manifest.get(name + 1).strip()).isEqualTo("value: " + String.join(" ", AgentFootprint.DAEMONSET_FLAGS));
        assertThat(List.copyOf(AgentFootprint.VARIANTS.values()).get(AgentFootprint.VARIANTS.size() - 1))
                .isEqualTo(AgentFootprint.DAEMONSET_FLAGS);
    }
}
