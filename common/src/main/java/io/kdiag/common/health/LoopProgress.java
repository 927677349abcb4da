package io.kdiag.common.health;

import java.time.Duration;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Whether a component's main loop makes progress: the loop calls {@link #progressed()} whenever it finished a piece of
 * work or found none to do. One that did neither for longer than the stall timeout is stuck: blocked, or retrying the
 * same work without end (a transaction that keeps aborting, records whose events cannot be delivered). An idle loop is
 * not stuck; it reports progress each time it finds nothing to do.
 */
public final class LoopProgress implements Health.Check {
    private final String loop;
    private final long stallNanos;
    private final LongSupplier nanoTime;
    private volatile long lastProgress;

    /**
     * @param loop what the loop does, for the problem's sentence ("the gate's forwarding loop")
     * @param stallTimeout how long without progress counts as stuck
     */
    public LoopProgress(String loop, Duration stallTimeout) {
        this(loop, stallTimeout, System::nanoTime);
    }

    LoopProgress(String loop, Duration stallTimeout, LongSupplier nanoTime) {
        this.loop = loop;
        this.stallNanos = stallTimeout.toNanos();
        this.nanoTime = nanoTime;
        this.lastProgress = nanoTime.getAsLong();
    }

    /** The loop finished a piece of work, or found none to do. */
    public void progressed() {
        lastProgress = nanoTime.getAsLong();
    }

    @Override
    public Optional<String> problem() {
        long quiet = nanoTime.getAsLong() - lastProgress;
        if (quiet <= stallNanos) {
            return Optional.empty();
        }
        return Optional.of(loop + " made no progress for " + Duration.ofNanos(quiet).toSeconds() + " s (stall timeout "
                + Duration.ofNanos(stallNanos).toSeconds() + " s)");
    }
}
