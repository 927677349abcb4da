package io.kdiag.stageworkers.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.NamespacedName;
import org.junit.jupiter.api.Test;

class OutputJsonTest {
    /** What the agent did before: write the output, read the text back. */
    private static Map<String, Object> readBack(Map<String, ?> output) {
        return ApiSerialization.jsonObject(ApiSerialization.json(output));
    }

    /** The value with the class of every part, so {@code 5} and {@code 5L} differ. */
    private static String typed(Object value) {
        if (value instanceof Map<?, ?> map) {
            return map.getClass().getSimpleName() + map.entrySet().stream().map(e -> e.getKey() + "=" + typed(e.getValue()))
                    .collect(Collectors.joining(", ", "{", "}"));
        }
        if (value instanceof List<?> list) {
            return list.getClass().getSimpleName() + list.stream().map(OutputJsonTest::typed).collect(Collectors.joining(", ", "[", "]"));
        }
        return value == null ? "null" : value.getClass().getSimpleName() + ":" + value;
    }

    private static void assertAsIfReadBack(Map<String, ?> output) {
        OutputJson json = OutputJson.of(output);

        assertThat(json.text()).isEqualTo(ApiSerialization.json(output));
        assertThat(typed(json.values())).isEqualTo(typed(readBack(output)).replaceFirst("^LinkedHashMap", "UnmodifiableMap"));
        assertThat(json.utf8Bytes()).isEqualTo(json.text().getBytes(StandardCharsets.UTF_8).length);
    }

    private static Map<String, Object> entries(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    @Test
    void shouldGivePlainOutputTheValuesReadingItsJsonBackGives() {
        List<Object> list = new ArrayList<>(Arrays.asList(1, null, "two", List.of(), Map.of()));
        assertAsIfReadBack(entries(
                "int", 5, "smallLong", 5L, "minInt", (long) Integer.MIN_VALUE, "belowInt", Integer.MIN_VALUE - 1L, "maxLong", Long.MAX_VALUE,
                "short", (short) 3, "byte", (byte) -1, "bigInLong", BigInteger.valueOf(-7), "bigInt", BigInteger.valueOf(3_000_000_000L),
                "double", 0.1, "integralDouble", 5.0, "negativeZero", -0.0, "tiny", Double.MIN_VALUE, "huge", Double.MAX_VALUE, "exp", 1e20,
                "bool", false, "null", null, "text", "naïve ✓ \uD83D\uDE00 \"quoted\"\n", "empty", "",
                "list", list, "nested", entries("z", 1, "a", entries("deep", List.of(List.of(2L))))));
        assertAsIfReadBack(Map.of("k1", 1L, "k2", List.of("x"), "k3", Map.of("b", 2, "a", 3)));
        assertAsIfReadBack(Collections.unmodifiableMap(new TreeMap<>(Map.of("b", 1, "a", 2))));
    }

    @Test
    void shouldGiveEveryFiniteDoubleBackExactly() {
        Random random = new Random(16);
        Map<String, Object> doubles = new LinkedHashMap<>();
        for (int i = 0; i < 2000; i++) {
            doubles.put("d" + i, i % 2 == 0 ? Double.longBitsToDouble(random.nextLong() & 0x7fefffffffffffffL) : random.nextDouble() * 1e6);
        }
        assertAsIfReadBack(doubles);
    }

    @Test
    void shouldReadBackWhatJsonWritesOtherwise() {
        // each of these reads back as something else than it is: a double, an integer, text, a list, a map of text
        for (Object value : List.of(1.5f, new BigDecimal("1.50"), new BigDecimal("5"), Double.NaN, Double.POSITIVE_INFINITY,
                new BigInteger("9223372036854775808"), "lone \uD800 surrogate", "\uDC00", Set.of(1), new int[] {1, 2}, Map.of(1, "x"),
                Instant.parse("2026-12-03T10:00:00Z"), new NamespacedName("ns", "name"), new StringBuilder("text"))) {
            assertAsIfReadBack(entries("value", value, "after", 1L));
            assertAsIfReadBack(entries("inList", List.of(1L, value)));
        }
    }

    @Test
    void shouldReadBackOutputNestedDeeperThanItCopies() {
        Object deep = "bottom";
        for (int i = 0; i < 70; i++) {
            deep = i % 2 == 0 ? List.of(deep, 1L) : Map.of("level", deep);
        }
        assertAsIfReadBack(entries("deep", deep));
    }

    @Test
    void shouldKeepNothingTheWorkerCanStillChange() {
        Map<String, Object> inner = new LinkedHashMap<>(Map.of("a", 1));
        List<Object> list = new ArrayList<>(List.of(1));
        OutputJson json = OutputJson.of(entries("inner", inner, "list", list));

        inner.put("b", 2);
        list.add(2);

        assertThat(json.values()).isEqualTo(Map.of("inner", Map.of("a", 1), "list", List.of(1)));
        assertThat(json.text()).isEqualTo("{\"inner\":{\"a\":1},\"list\":[1]}");
        assertThatThrownBy(() -> json.values().put("x", 1)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void shouldCountTheTextInUtf8Bytes() {
        OutputJson json = OutputJson.of(Map.of("k", "é\uD83D\uDE00"));

        assertThat(json.text()).isEqualTo("{\"k\":\"é\uD83D\uDE00\"}");
        assertThat(json.utf8Bytes()).isEqualTo(8 + 2 + 4);
    }
}
