package io.kdiag.sourcebridge.gate;

import java.time.Duration;

/**
 * Cuts the gate thread's wait for new work (a poll of the ingest consumer or of the submissions queue) short when an
 * acknowledgement gives it something to settle, or a submission comes while it polls the consumer, so neither waits for
 * the wait to run out, and the gate need not poll in a busy loop while batches are in flight. One that comes while the
 * gate is not waiting makes its next wait zero instead: the gate may have looked before it came.
 */
final class Wakeup {
    private final Runnable interrupt;
    private boolean waiting;
    private boolean interrupted;
    private boolean pending;

    /** @param interrupt ends the wait under way from another thread, or makes the next one end at once: thread-safe */
    Wakeup(Runnable interrupt) {
        this.interrupt = interrupt;
    }

    /** Called by the gate thread before it waits: how long it may, zero when something came to settle since its last wait. */
    synchronized Duration beforeWait(Duration wait) {
        if (pending) {
            pending = false;
            return Duration.ZERO;
        }
        waiting = true;
        interrupted = false;
        return wait;
    }

    /** Called by the gate thread after its wait, however it ended. */
    synchronized void afterWait() {
        waiting = false;
    }

    /** Something came for the gate: any thread. Interrupts a wait at most once, however many come during it. */
    synchronized void wake() {
        if (!waiting) {
            pending = true;
        } else if (!interrupted) {
            interrupted = true;
            interrupt.run();
        }
    }

    /** Interrupts whatever the gate thread waits for, so that it sees it is to stop. */
    void stop() {
        interrupt.run();
    }
}
