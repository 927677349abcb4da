package io.kdiag.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.HdrHistogram.Histogram;

/** The results of one run: rows of (section, measure, value, what bounds it, verdict), printed as a Markdown table. */
final class Report {
    private record Row(String section, String measure, String value, String bound, String verdict) {
    }

    private final List<Row> rows = new ArrayList<>();
    private final PrintStream out;

    Report(PrintStream out) {
        this.out = out;
    }

    /** A measured figure next to the limit or target that bounds it; {@code met} null when there is no target. */
    void add(String section, String measure, String value, String bound, Boolean met) {
        Row row = new Row(section, measure, value, bound == null ? "" : bound, met == null ? "" : met ? "met" : "NOT met");
        rows.add(row);
        out.printf("  %-10s %-58s %-34s %s %s%n", section, measure, value, row.bound(), row.verdict());
        out.flush();
    }

    void note(String text) {
        out.println("  " + text);
        out.flush();
    }

    String markdown() {
        StringBuilder md = new StringBuilder("| section | measure | value | bound / target | verdict |\n|---|---|---|---|---|\n");
        rows.forEach(r -> md.append("| ").append(r.section()).append(" | ").append(r.measure()).append(" | ").append(r.value())
                .append(" | ").append(r.bound()).append(" | ").append(r.verdict()).append(" |\n"));
        return md.toString();
    }

    void write(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, markdown());
    }

    static String rate(double perSecond, String unit) {
        return perSecond >= 10_000 ? String.format(Locale.ROOT, "%,.0f %s/s", perSecond, unit)
                : String.format(Locale.ROOT, "%,.1f %s/s", perSecond, unit);
    }

    static String ms(double millis) {
        return String.format(Locale.ROOT, "%.1f ms", millis);
    }

    /** p50 / p99 / max of a histogram of microseconds, in milliseconds. */
    static String latency(Histogram micros) {
        return String.format(Locale.ROOT, "p50 %.1f / p99 %.1f / max %.1f ms (n=%d)", micros.getValueAtPercentile(50) / 1000.0,
                micros.getValueAtPercentile(99) / 1000.0, micros.getMaxValue() / 1000.0, micros.getTotalCount());
    }

    static String ratio(double value) {
        return String.format(Locale.ROOT, "%.2f", value);
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }
}
