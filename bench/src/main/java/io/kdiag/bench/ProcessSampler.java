package io.kdiag.bench;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Samples the resident memory and CPU time of processes at a fixed period, keeping each one's peak RSS since the last
 * {@link #resetPeaks()}: a peak between two samples is missed, so the period bounds how short a peak can be seen.
 */
final class ProcessSampler implements AutoCloseable {
    /** One watched process; its figures as of the last sample. */
    static final class Watched {
        private final String label;
        private final long pid;
        private volatile long peakRss;
        private volatile ProcStats last;
        private volatile boolean gone;

        private Watched(String label, long pid) {
            this.label = label;
            this.pid = pid;
        }

        String label() {
            return label;
        }

        long peakRss() {
            return peakRss;
        }

        /** The last sample; {@code null} before the first. */
        ProcStats last() {
            return last;
        }

        /** Whether the process had ended at a sample. */
        boolean gone() {
            return gone;
        }

        synchronized void record(ProcStats stats) {
            last = stats;
            peakRss = Math.max(peakRss, stats.rssBytes());
        }

        private void sample() {
            if (gone) {
                return;
            }
            try {
                record(ProcStats.of(pid));
            } catch (IOException | RuntimeException e) {
                // no /proc/<pid> any more: the process ended
                gone = true;
            }
        }

        private synchronized void resetPeak() {
            peakRss = last == null ? 0 : last.rssBytes();
        }
    }

    private final List<Watched> watched = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "bench-process-sampler");
        t.setDaemon(true);
        return t;
    });

    ProcessSampler(Duration period) {
        timer.scheduleAtFixedRate(this::sampleAll, 0, period.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Samples {@code pid} from now on, once at once. */
    Watched watch(String label, long pid) {
        Watched process = new Watched(label, pid);
        process.sample();
        watched.add(process);
        return process;
    }

    /** Every watched process, in the order watched. */
    List<Watched> watched() {
        return List.copyOf(watched);
    }

    /** Samples every process now, so that {@link Watched#last()} is current. */
    void sampleAll() {
        watched.forEach(Watched::sample);
    }

    /** Samples now and makes the current RSS each process's peak: what follows is measured alone. */
    void resetPeaks() {
        sampleAll();
        watched.forEach(Watched::resetPeak);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
