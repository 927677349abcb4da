package io.kdiag.common.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class LoopProgressTest {
    private final AtomicLong now = new AtomicLong(1_000);
    private final LoopProgress progress = new LoopProgress("the test loop", Duration.ofSeconds(30), now::get);

    @Test
    void shouldCountALoopQuietForLongerThanTheStallTimeoutAsStuck() {
        assertThat(progress.problem()).isEmpty();
        now.addAndGet(Duration.ofSeconds(30).toNanos());
        assertThat(progress.problem()).as("exactly the timeout").isEmpty();
        now.addAndGet(Duration.ofSeconds(1).toNanos());
        assertThat(progress.problem()).hasValueSatisfying(p -> assertThat(p).startsWith("the test loop made no progress for 31 s"));

        progress.progressed();
        assertThat(progress.problem()).isEmpty();
    }

    @Test
    void shouldFailReadinessWhenLivenessFailsAndNameEveryProblem() {
        Health health = new Health(List.of(progress), List.of(() -> Optional.of("still restoring")));

        assertThat(health.livenessProblems()).isEmpty();
        assertThat(health.readinessProblems()).containsExactly("still restoring");
        now.addAndGet(Duration.ofMinutes(1).toNanos());
        assertThat(health.livenessProblems()).hasSize(1);
        assertThat(health.readinessProblems()).hasSize(2).last().isEqualTo("still restoring");
    }
}
