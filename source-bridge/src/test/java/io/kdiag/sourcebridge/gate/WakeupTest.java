package io.kdiag.sourcebridge.gate;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

class WakeupTest {
    private static final Duration IDLE = Duration.ofMillis(100);
    private final AtomicInteger interrupts = new AtomicInteger();
    private final Wakeup wakeup = new Wakeup(interrupts::incrementAndGet);

    @Test
    void shouldInterruptAWaitOnceHoweverManyAcknowledgementsCome() {
        assertThat(wakeup.beforeWait(IDLE)).isEqualTo(IDLE);

        wakeup.wake();
        wakeup.wake();

        assertThat(interrupts).hasValue(1);
        wakeup.afterWait();
        assertThat(wakeup.beforeWait(IDLE)).isEqualTo(IDLE);
        wakeup.wake();
        assertThat(interrupts).hasValue(2);
    }

    @Test
    void shouldNotWaitAfterAnAcknowledgementThatCameBetweenWaits() {
        wakeup.beforeWait(IDLE);
        wakeup.afterWait();

        wakeup.wake();

        assertThat(interrupts).hasValue(0);
        assertThat(wakeup.beforeWait(IDLE)).isEqualTo(Duration.ZERO);
        wakeup.afterWait();
        assertThat(wakeup.beforeWait(IDLE)).as("only once").isEqualTo(IDLE);
    }

    @Test
    void shouldInterruptToStopEvenWhenNotWaiting() {
        wakeup.stop();

        assertThat(interrupts).hasValue(1);
    }
}
