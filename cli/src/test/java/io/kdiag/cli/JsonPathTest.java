package io.kdiag.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import io.kdiag.api.ApiSerialization;
import org.junit.jupiter.api.Test;

class JsonPathTest {
    private static final Map<String, Object> LIST = ApiSerialization.jsonObject("""
            {"kind": "List", "items": [
              {"metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "shop"}},
               "status": {"phase": "Succeeded", "conditions": [{"type": "InformationCollected"}, {"type": "Identified"}]}},
              {"metadata": {"name": "b"}, "status": {"phase": "Failed"}}]}""");

    @Test
    void shouldSelectFieldsIndexesAndEveryElement() {
        assertThat(JsonPath.select(LIST, ".items[*].metadata.name")).containsExactly("a", "b");
        assertThat(JsonPath.select(LIST, "$.items[1].status.phase")).containsExactly("Failed");
        assertThat(JsonPath.select(LIST, ".items[-1].metadata.name")).containsExactly("b");
        assertThat(JsonPath.select(LIST, ".items[0].metadata.labels['app.kubernetes.io/name']")).containsExactly("shop");
        assertThat(JsonPath.select(LIST, ".items[*].status.conditions[*].type")).containsExactly("InformationCollected", "Identified");
        assertThat(JsonPath.select(LIST, ".items[5].metadata.name")).isEmpty();
        assertThat(JsonPath.select(LIST, ".items[0].metadata")).singleElement().isInstanceOf(Map.class);
    }

    @Test
    void shouldRenderTemplatesAsKubectlDoes() {
        assertThat(JsonPath.render(LIST, "{.items[*].metadata.name}")).isEqualTo("a b");
        assertThat(JsonPath.render(LIST, ".items[0].status.phase")).isEqualTo("Succeeded");
        assertThat(JsonPath.render(LIST, "{range .items[*]}{.metadata.name}{\"\\t\"}{.status.phase}{\"\\n\"}{end}"))
                .isEqualTo("a\tSucceeded\nb\tFailed\n");
        assertThat(JsonPath.render(LIST, "names: {range .items[*]}[{range .status.conditions[*]}{.type},{end}]{end}"))
                .isEqualTo("names: [InformationCollected,Identified,][]");
        assertThat(JsonPath.render(Map.of("n", List.of(1, 2)), "{.n}")).isEqualTo("[1,2]");
    }

    @Test
    void shouldRefuseTemplatesItCannotRead() {
        assertThatThrownBy(() -> JsonPath.render(LIST, "{.items[0}")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> JsonPath.render(LIST, "{range .items[*]}{.metadata.name}")).hasMessageContaining("without {end}");
        assertThatThrownBy(() -> JsonPath.select(LIST, "items")).hasMessageContaining("paths look like");
    }
}
