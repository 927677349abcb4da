package io.kdiag.profilers;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The output of {@code jcmd <pid> GC.class_histogram}: the live objects of a JVM by class, largest first, and their
 * totals.
 *
 * @param rows one per class, as printed
 * @param totalInstances all live objects
 * @param totalBytes their shallow size
 */
record HeapHistogram(List<Row> rows, long totalInstances, long totalBytes) {
    /** Rows beyond this are left to the raw file; the page would otherwise be megabytes for large applications. */
    static final int MAX_ROWS = 1000;

    private static final Pattern ROW = Pattern.compile("^\\s*(\\d+):\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)(?:\\s+\\((.*)\\))?\\s*$");
    private static final Pattern TOTAL = Pattern.compile("^Total\\s+(\\d+)\\s+(\\d+)\\s*$");

    /**
     * One class.
     *
     * @param rank its place by size
     * @param instances its live objects
     * @param bytes their shallow size
     * @param className the class as the JVM names it, e.g. {@code [B} for byte arrays
     * @param module the module and version, empty for classes of the class path on old JVMs
     */
    record Row(int rank, long instances, long bytes, String className, String module) {
    }

    /**
     * Parses jcmd's output.
     *
     * @throws IllegalArgumentException if it has no histogram, e.g. because jcmd printed an error
     */
    static HeapHistogram parse(String text) {
        List<Row> rows = new ArrayList<>();
        long[] total = null;
        for (String line : text.split("\n")) {
            Matcher row = ROW.matcher(line);
            if (row.matches()) {
                rows.add(new Row(Integer.parseInt(row.group(1)), Long.parseLong(row.group(2)), Long.parseLong(row.group(3)),
                        row.group(4), row.group(5) == null ? "" : row.group(5)));
                continue;
            }
            Matcher totals = TOTAL.matcher(line.strip());
            if (totals.matches()) {
                total = new long[] {Long.parseLong(totals.group(1)), Long.parseLong(totals.group(2))};
            }
        }
        if (total == null) {
            throw new IllegalArgumentException("no class histogram in the output: " + text.strip());
        }
        return new HeapHistogram(List.copyOf(rows), total[0], total[1]);
    }

    /** The page: totals, a link to the raw output, and the largest {@link #MAX_ROWS} classes as a table. */
    String render(String title, String rawHref) {
        StringBuilder body = new StringBuilder();
        body.append("<p class=\"meta\">Java heap histogram (live objects after a full GC) &middot; ")
                .append(String.format(Locale.ROOT, "%,d", totalInstances)).append(" instances, ")
                .append(String.format(Locale.ROOT, "%,d", totalBytes)).append(" bytes in ").append(rows.size())
                .append(" classes &middot; raw output: <a href=\"").append(Html.escape(rawHref))
                .append("\">class-histogram.txt</a></p>\n");
        if (rows.size() > MAX_ROWS) {
            body.append("<p class=\"note\">The ").append(MAX_ROWS).append(" largest classes are shown; the raw output has all ")
                    .append(rows.size()).append(".</p>\n");
        }
        body.append("<table>\n<tr><th>#</th><th>instances</th><th>bytes</th><th>% bytes</th>"
                + "<th class=\"name\">class</th><th class=\"name\">module</th></tr>\n");
        for (Row row : rows.subList(0, Math.min(rows.size(), MAX_ROWS))) {
            body.append("<tr><td>").append(row.rank()).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%,d", row.instances())).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%,d", row.bytes())).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%.2f", totalBytes == 0 ? 0.0 : 100.0 * row.bytes() / totalBytes))
                    .append("</td><td class=\"name\">").append(Html.escape(row.className()))
                    .append("</td><td class=\"name\">").append(Html.escape(row.module())).append("</td></tr>\n");
        }
        body.append("</table>\n");
        return Html.page(title, body.toString());
    }
}
