package io.kdiag.nodeagent.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;

import io.kdiag.schemas.avro.RecoveryControl;
import org.junit.jupiter.api.Test;

class RecoverySwitchTest {
    private final RecoverySwitch recoveries = new RecoverySwitch();

    private static RecoveryControl control(boolean paused) {
        return new RecoveryControl(paused, "User:alice", Instant.parse("2026-12-03T07:00:00Z"), null);
    }

    @Test
    void shouldBePausedUntilTheTopicIsReadToItsEnd() {
        assertThat(recoveries.paused()).isTrue();
        assertThat(recoveries.pausedBecause()).contains("not yet read");

        recoveries.readToEnd();

        assertThat(recoveries.paused()).isFalse();
        assertThat(recoveries.pausedBecause()).isNull();
    }

    @Test
    void shouldLetTheLatestRecordWinOnceReadToTheEnd() {
        recoveries.apply(control(true));
        recoveries.apply(control(false));
        recoveries.apply(control(true));
        recoveries.readToEnd();

        assertThat(recoveries.pausedBecause()).isEqualTo("recoveries are paused cluster-wide by User:alice at 2026-12-03T07:00:00Z;"
                + " 'kdiag recoveries resume' lets them run again");

        recoveries.apply(control(false));
        assertThat(recoveries.paused()).isFalse();
    }

    @Test
    void shouldStayPausedWhileReadingARecordThatResumesBeforeTheEnd() {
        recoveries.apply(control(false));

        assertThat(recoveries.paused()).isTrue();
    }

    @Test
    void shouldPauseOnAnUnreadableRecordAndRunOnATombstone() {
        recoveries.readToEnd();
        recoveries.unreadable("not a released RecoveryControl schema");

        assertThat(recoveries.pausedBecause()).contains("cannot be read (not a released RecoveryControl schema)");

        recoveries.apply(null);
        assertThat(recoveries.paused()).isFalse();
    }
}
