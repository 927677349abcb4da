package io.kdiag.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident memory and CPU time of a process, from {@code /proc/<pid>/status} and {@code /proc/<pid>/stat}. */
record ProcStats(long rssBytes, long cpuTicks) {
    /** Clock ticks per second of utime/stime; 100 on every Linux the project targets (USER_HZ). */
    static final int TICKS_PER_SECOND = 100;

    static ProcStats of(long pid) throws IOException {
        long rss = 0;
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024;
            }
        }
        return new ProcStats(rss, cpuTicks(Files.readString(Path.of("/proc", String.valueOf(pid), "stat"))));
    }

    /** utime + stime: fields 14 and 15, counted after the parenthesised command name (which may hold spaces). */
    static long cpuTicks(String stat) {
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    /** Share of one core used between two samples taken {@code nanos} apart. */
    static double coreShare(ProcStats before, ProcStats after, long nanos) {
        return (after.cpuTicks - before.cpuTicks) / (double) TICKS_PER_SECOND / (nanos / 1e9);
    }
}
