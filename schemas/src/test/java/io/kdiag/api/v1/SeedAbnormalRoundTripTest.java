package io.kdiag.api.v1;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import io.kdiag.api.ApiSerialization;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** The seed's Abnormal, with and without status, parses into the model and writes back with nothing lost. */
class SeedAbnormalRoundTripTest {
    private static final YAMLMapper YAML = new YAMLMapper();

    @ParameterizedTest
    @ValueSource(strings = {"seed-abnormal.yaml", "seed-abnormal-with-status.yaml"})
    void shouldRoundTripTheSeedWithNothingLost(String file) throws IOException {
        String original = read(file);

        Abnormal abnormal = ApiSerialization.abnormal(original);
        String written = ApiSerialization.yaml(abnormal);

        assertThat(tree(written)).isEqualTo(tree(original));
    }

    @ParameterizedTest
    @ValueSource(strings = {"seed-abnormal-with-status.yaml"})
    void shouldReadTheSeedStatusIntoTypedFields(String file) throws IOException {
        Abnormal abnormal = ApiSerialization.abnormal(read(file));

        assertThat(abnormal.getSpec().nodeName).isEqualTo("10.177.16.22");
        assertThat(abnormal.getSpec().skipRecovery).isTrue();
        assertThat(abnormal.getSpec().assignedDiagnosers).extracting(n -> n.name).containsExactly("pod-disk-usage-diagnoser");
        assertThat(abnormal.getStatus().phase).isEqualTo("Succeeded");
        assertThat(abnormal.getStatus().conditions).extracting(c -> c.type)
                .containsExactly("InformationCollected", "Identified", "Recovered");
        assertThat(abnormal.getStatus().diagnoser.toString()).isEqualTo("kube-diagnoser/pod-disk-usage-diagnoser");
        assertThat(abnormal.getStatus().context).containsKey("podDiskUsageDiagnosis");
        @SuppressWarnings("unchecked")
        Map<String, Object> first = (Map<String, Object>) ((java.util.List<?>) abnormal.getStatus().context.get("podDiskUsageDiagnosis")).get(0);
        assertThat(first).containsEntry("diskUsage", 77824);
    }

    private static JsonNode tree(String yaml) {
        return YAML.readTree(yaml);
    }

    private static String read(String file) throws IOException {
        try (InputStream in = SeedAbnormalRoundTripTest.class.getResourceAsStream("/seed/" + file)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
