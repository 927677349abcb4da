package io.kdiag.sourcebridge.gate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class StormLimiterTest {
    private final AtomicLong now = new AtomicLong(1_000_000);

    @Test
    void shouldLimitEachNodeAndTheClusterWithinAnyMinute() {
        StormLimiter limiter = new StormLimiter(2, 3, now::get);

        assertThat(limiter.tryAcquire("a", now.get())).isEqualTo(Verdict.Outcome.FORWARDED);
        now.addAndGet(30_000);
        assertThat(limiter.tryAcquire("a", now.get())).isEqualTo(Verdict.Outcome.FORWARDED);
        assertThat(limiter.tryAcquire("a", now.get())).isEqualTo(Verdict.Outcome.STORM_NODE);
        assertThat(limiter.tryAcquire("b", now.get())).isEqualTo(Verdict.Outcome.FORWARDED);
        assertThat(limiter.tryAcquire("c", now.get())).isEqualTo(Verdict.Outcome.STORM_CLUSTER);

        now.addAndGet(30_001); // the first start left the minute
        assertThat(limiter.tryAcquire("a", now.get())).isEqualTo(Verdict.Outcome.FORWARDED);
        assertThat(limiter.tryAcquire("a", now.get())).isEqualTo(Verdict.Outcome.STORM_NODE);
    }

    @Test
    void shouldCountTheStartsOfOtherGatesAndEarlierLivesFromTheLedger() {
        StormLimiter limiter = new StormLimiter(2, 3, now::get);
        limiter.started("a", now.get() - 50_000);
        limiter.started("b", now.get() - 10_000);
        limiter.started("z", now.get() - 61_000); // older than the minute: counts for nothing

        assertThat(limiter.tryAcquire("a", now.get())).isEqualTo(Verdict.Outcome.FORWARDED);
        assertThat(limiter.tryAcquire("c", now.get())).as("a, b and a again: the cluster's three").isEqualTo(Verdict.Outcome.STORM_CLUSTER);
        now.addAndGet(10_001);
        assertThat(limiter.tryAcquire("c", now.get())).isEqualTo(Verdict.Outcome.FORWARDED);
    }

    @Test
    void shouldGiveBackOnlyTheTokenItNames() {
        StormLimiter limiter = new StormLimiter(1, 10, now::get);
        long taken = now.get();
        limiter.tryAcquire("a", taken);
        limiter.refund("a", taken - 5);
        limiter.refund("b", taken);
        assertThat(limiter.tryAcquire("a", now.get())).as("no token of a taken at that time").isEqualTo(Verdict.Outcome.STORM_NODE);

        limiter.refund("a", taken);

        assertThat(limiter.tryAcquire("a", now.get())).isEqualTo(Verdict.Outcome.FORWARDED);
    }
}
