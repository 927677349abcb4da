package io.kdiag.statuswriter.fold;

import static org.assertj.core.api.Assertions.assertThat;

import io.kdiag.model.FoldState;
import io.kdiag.testkit.Events;
import org.junit.jupiter.api.Test;

class LiveFoldStatesTest {
    private static FoldState accepted(String uid) {
        FoldState state = FoldState.empty();
        state.offer(new Events(uid).accepted(), FoldState.MAX_PENDING);
        return state;
    }

    @Test
    void shouldDropTheLeastRecentlyUsedBeyondTheBudget() {
        FoldState a = accepted("uid-a");
        FoldState b = accepted("uid-b");
        FoldState c = accepted("uid-c");
        LiveFoldStates live = new LiveFoldStates(a.approximateBytes() + b.approximateBytes() + c.approximateBytes() / 2);

        live.put("uid-a", a);
        live.put("uid-b", b);
        assertThat(live.get("uid-a")).isSameAs(a); // now b is the least recently used
        live.put("uid-c", c);

        assertThat(live.get("uid-b")).isNull();
        assertThat(live.get("uid-a")).isSameAs(a);
        assertThat(live.get("uid-c")).isSameAs(c);
        assertThat(live.size()).isEqualTo(2);
    }

    @Test
    void shouldCountAStateOnceWhenPutAgain() {
        FoldState a = accepted("uid-a");
        LiveFoldStates live = new LiveFoldStates(a.approximateBytes() * 2);

        for (int i = 0; i < 10; i++) {
            live.put("uid-a", a);
        }
        live.put("uid-b", accepted("uid-b"));

        assertThat(live.get("uid-a")).isSameAs(a);
        assertThat(live.size()).isEqualTo(2);
    }

    @Test
    void shouldForgetRemovedAndClearedStates() {
        LiveFoldStates live = new LiveFoldStates(1 << 20);
        live.put("uid-a", accepted("uid-a"));
        live.put("uid-b", accepted("uid-b"));

        live.remove("uid-a");
        assertThat(live.get("uid-a")).isNull();
        live.clear();

        assertThat(live.get("uid-b")).isNull();
        assertThat(live.size()).isZero();
    }

    @Test
    void shouldKeepNothingLargerThanTheBudget() {
        FoldState a = accepted("uid-a");
        LiveFoldStates live = new LiveFoldStates(a.approximateBytes() - 1);

        live.put("uid-a", a);

        assertThat(live.get("uid-a")).isNull();
    }
}
