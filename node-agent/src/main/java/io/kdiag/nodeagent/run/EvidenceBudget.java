package io.kdiag.nodeagent.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How much evidence the agent may still write: per value, per abnormal, and per node per day (UTC). The day's total is
 * kept in a file of the state directory, so a restart does not start the day afresh.
 */
public final class EvidenceBudget {
    private static final Logger LOG = LoggerFactory.getLogger(EvidenceBudget.class);

    /**
     * @param maxValueBytes the largest value kept ({@code kdiag.evidence.max-value-bytes})
     * @param maxAbnormalBytes the most kept for one abnormal ({@code kdiag.evidence.max-abnormal-bytes})
     * @param maxNodeBytesPerDay the most one node keeps in a UTC day ({@code kdiag.evidence.max-node-bytes-per-day})
     */
    public record Limits(int maxValueBytes, int maxAbnormalBytes, int maxNodeBytesPerDay) {
    }

    private final Limits limits;
    private final Path file;
    private final Clock clock;
    private LocalDate day;
    private long spentToday;

    /** A budget whose daily total lives in {@code file}; an unreadable file counts as nothing spent. */
    public EvidenceBudget(Limits limits, Path file, Clock clock) {
        this.limits = limits;
        this.file = file;
        this.clock = clock;
        this.day = today();
        this.spentToday = read(file, day);
    }

    /** Why a value of {@code bytes} may not be kept for an abnormal that kept {@code abnormalBytes} already; null if it may. */
    public synchronized String refusal(long abnormalBytes, int bytes) {
        rollOver();
        if (bytes > limits.maxValueBytes()) {
            return "larger than kdiag.evidence.max-value-bytes=" + limits.maxValueBytes();
        }
        if (abnormalBytes + bytes > limits.maxAbnormalBytes()) {
            return "more than kdiag.evidence.max-abnormal-bytes=" + limits.maxAbnormalBytes() + " for this abnormal ("
                    + abnormalBytes + " kept already)";
        }
        if (spentToday + bytes > limits.maxNodeBytesPerDay()) {
            return "more than kdiag.evidence.max-node-bytes-per-day=" + limits.maxNodeBytesPerDay() + " for this node today ("
                    + spentToday + " kept already)";
        }
        return null;
    }

    /** Counts {@code bytes} kept. */
    public synchronized void spend(int bytes) {
        rollOver();
        spentToday += bytes;
        write();
    }

    private void rollOver() {
        LocalDate now = today();
        if (!now.equals(day)) {
            day = now;
            spentToday = 0;
        }
    }

    private LocalDate today() {
        return LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
    }

    private static long read(Path file, LocalDate day) {
        try {
            String[] fields = Files.readString(file, StandardCharsets.UTF_8).strip().split(" ");
            return fields.length == 2 && fields[0].equals(day.toString()) ? Long.parseLong(fields[1]) : 0;
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    private void write() {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, day + " " + spentToday + "\n", StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            // the limit still holds until the agent restarts; only the count across a restart is lost
            LOG.warn("evidence budget not saved file={} reason={}", file, e.toString());
        }
    }
}
