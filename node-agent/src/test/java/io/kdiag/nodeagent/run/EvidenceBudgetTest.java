package io.kdiag.nodeagent.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvidenceBudgetTest {
    private static final EvidenceBudget.Limits LIMITS = new EvidenceBudget.Limits(100, 250, 400);
    private static final Instant MORNING = Instant.parse("2026-12-03T08:00:00Z");

    @TempDir
    Path dir;

    private EvidenceBudget budget(Instant now) {
        return new EvidenceBudget(LIMITS, dir.resolve("evidence-budget"), Clock.fixed(now, ZoneOffset.UTC));
    }

    @Test
    void shouldRefuseAValueLargerThanTheValueLimit() {
        assertThat(budget(MORNING).refusal(0, 100)).isNull();
        assertThat(budget(MORNING).refusal(0, 101)).contains("kdiag.evidence.max-value-bytes=100");
    }

    @Test
    void shouldRefuseWhatWouldTakeAnAbnormalOverItsLimit() {
        assertThat(budget(MORNING).refusal(150, 100)).isNull();
        assertThat(budget(MORNING).refusal(151, 100)).contains("kdiag.evidence.max-abnormal-bytes=250", "151 kept already");
    }

    @Test
    void shouldCountTheNodesDayAcrossRestartsAndStartAfreshTheNextDay() {
        EvidenceBudget budget = budget(MORNING);
        budget.spend(100);
        budget.spend(100);
        budget.spend(100);

        EvidenceBudget restarted = budget(MORNING.plusSeconds(3600));
        assertThat(restarted.refusal(0, 100)).isNull();
        restarted.spend(100);
        assertThat(restarted.refusal(0, 1)).contains("kdiag.evidence.max-node-bytes-per-day=400", "400 kept already");

        assertThat(budget(Instant.parse("2026-12-04T00:00:00Z")).refusal(0, 100)).isNull();
    }
}
