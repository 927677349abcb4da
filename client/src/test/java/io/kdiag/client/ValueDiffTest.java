package io.kdiag.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.kdiag.api.ApiSerialization;
import org.junit.jupiter.api.Test;

class ValueDiffTest {
    @Test
    void shouldGiveNothingForEqualTrees() {
        Map<String, Object> tree = Map.of("pods", List.of(Map.of("uid", "a", "diskUsage", 1)));

        assertThat(ValueDiff.of(tree, Map.copyOf(tree))).isEmpty();
    }

    @Test
    void shouldNameEachDifferenceAtTheDeepestPlaceItShows() {
        // trees as records hold them: JSON objects keep their order
        Map<String, Object> before = ApiSerialization.jsonObject("""
                {"pods": [{"uid": "a", "diskUsage": 77824}, {"uid": "b", "diskUsage": 1}], "gone": true}""");
        Map<String, Object> after = ApiSerialization.jsonObject("""
                {"pods": [{"uid": "a", "diskUsage": 81920}], "new": "x"}""");

        assertThat(ValueDiff.of(before, after)).containsExactly(
                "pods[0].diskUsage: 77824 → 81920",
                "pods[1]: removed {\"uid\":\"b\",\"diskUsage\":1}",
                "gone: removed true",
                "new: added \"x\"");
    }

    @Test
    void shouldKeepLongValuesAndLongDiffsShort() {
        Map<String, Object> before = new LinkedHashMap<>();
        Map<String, Object> after = new LinkedHashMap<>();
        for (int i = 0; i < 30; i++) {
            before.put("k" + i, i);
            after.put("k" + i, i + 1);
        }
        after.put("k0", "y".repeat(500));

        List<String> lines = ValueDiff.of(before, after);

        assertThat(lines).hasSize(ValueDiff.MAX_LINES + 1).last().isEqualTo("… 10 more");
        assertThat(lines.get(0)).startsWith("k0: 0 → \"yyy").endsWith("…").hasSizeLessThan(ValueDiff.MAX_VALUE_CHARS + 20);
    }
}
