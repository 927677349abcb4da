package io.kdiag.profilers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class StackCountsTest {
    @Test
    void shouldParseCollapsedStacksWhoseFramesContainSpaces() {
        StackCounts stacks = StackCounts.parseCollapsed("""
                <module> (app.py:40);main (app.py:33);handle (app.py:20) 7
                <module> (app.py:40);main (app.py:33) 2

                <module> (app.py:40);main (app.py:33);handle (app.py:20) 3
                """);

        assertThat(stacks.stacks()).containsExactly(
                Map.entry(List.of("<module> (app.py:40)", "main (app.py:33)", "handle (app.py:20)"), 10L),
                Map.entry(List.of("<module> (app.py:40)", "main (app.py:33)"), 2L));
        assertThat(stacks.total()).isEqualTo(12);
    }

    @Test
    void shouldNameTheFirstLineThatIsNotAStackWithACount() {
        assertThatThrownBy(() -> StackCounts.parseCollapsed("a;b 1\nError: Permission Denied\n"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("line 2 is not 'frame;frame;... count': Error: Permission Denied");
    }
}
