package io.kdiag.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProcStatsTest {
    @Test
    void shouldAddUserAndSystemTimeAfterACommandNameWithSpaces() {
        String stat = "4242 (java (main) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 30 0 100 0 0";
        assertThat(ProcStats.cpuTicks(stat)).isEqualTo(1234 + 56);
    }

    @Test
    void shouldReadTheResidentSetOfThisProcess() throws Exception {
        assertThat(ProcStats.of(ProcessHandle.current().pid()).rssBytes()).isPositive();
    }
}
