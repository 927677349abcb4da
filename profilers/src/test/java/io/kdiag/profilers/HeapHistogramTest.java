package io.kdiag.profilers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HeapHistogramTest {
    private static final String OUTPUT = """
            24871:
             num     #instances         #bytes  class name (module)
            -------------------------------------------------------
               1:         21966        1449696  [B (java.base@17.0.15)
               2:         20965         503160  java.lang.String (java.base@17.0.15)
               3:          1234          19744  com.example.Cache<K,V>$Entry
            Total         44165        1972600
            """;

    @Test
    void shouldParseRowsAndTotals() {
        HeapHistogram histogram = HeapHistogram.parse(OUTPUT);

        assertThat(histogram.rows()).containsExactly(
                new HeapHistogram.Row(1, 21966, 1449696, "[B", "java.base@17.0.15"),
                new HeapHistogram.Row(2, 20965, 503160, "java.lang.String", "java.base@17.0.15"),
                new HeapHistogram.Row(3, 1234, 19744, "com.example.Cache<K,V>$Entry", ""));
        assertThat(histogram.totalInstances()).isEqualTo(44165);
        assertThat(histogram.totalBytes()).isEqualTo(1972600);
    }

    @Test
    void shouldRenderATableLinkingTheRawOutput() {
        String page = HeapHistogram.parse(OUTPUT).render("heap of pid 24871", "../abc/class-histogram.txt");

        assertThat(page).contains("<title>heap of pid 24871</title>")
                .contains("<a href=\"../abc/class-histogram.txt\">")
                .contains("<tr><td>2</td><td>20,965</td><td>503,160</td><td>25.51</td><td class=\"name\">java.lang.String</td>")
                .contains("com.example.Cache&lt;K,V&gt;$Entry")
                .doesNotContain("Cache<K,V>");
    }

    @Test
    void shouldRefuseOutputWithoutAHistogram() {
        assertThatThrownBy(() -> HeapHistogram.parse("24871:\njava.lang.IllegalArgumentException: Unknown diagnostic command\n"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Unknown diagnostic command");
    }
}
