package io.kdiag.sourcebridge.gate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class StormLimiterTest {
    private final AtomicLong now = new AtomicLong();

    @Test
    void shouldLimitEachNodeAndTheClusterAndRefillOverAMinute() {
        StormLimiter limiter = new StormLimiter(2, 3, now::get);

        assertThat(limiter.tryAcquire("a")).isEqualTo(Verdict.Outcome.FORWARDED);
        assertThat(limiter.tryAcquire("a")).isEqualTo(Verdict.Outcome.FORWARDED);
        assertThat(limiter.tryAcquire("a")).isEqualTo(Verdict.Outcome.STORM_NODE);
        assertThat(limiter.tryAcquire("b")).isEqualTo(Verdict.Outcome.FORWARDED);
        assertThat(limiter.tryAcquire("c")).isEqualTo(Verdict.Outcome.STORM_CLUSTER);

        now.addAndGet(30_000_000_000L); // half a minute: one node token, one and a half cluster tokens
        assertThat(limiter.tryAcquire("a")).isEqualTo(Verdict.Outcome.FORWARDED);
        assertThat(limiter.tryAcquire("a")).isEqualTo(Verdict.Outcome.STORM_NODE);
    }

    @Test
    void shouldGiveBackTheTokensOfAnAbortedTransaction() {
        StormLimiter limiter = new StormLimiter(1, 10, now::get);
        limiter.tryAcquire("a");

        limiter.refund("a");

        assertThat(limiter.tryAcquire("a")).isEqualTo(Verdict.Outcome.FORWARDED);
    }
}
