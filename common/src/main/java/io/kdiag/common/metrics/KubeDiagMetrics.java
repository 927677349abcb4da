package io.kdiag.common.metrics;

import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.MeterRegistry;

/**
 * The KubeDiag-named series ({@link KubeDiagMetric}) a registry's components count into, served next to the
 * registry's own meters by {@link MetricsServer}. Kept apart from Micrometer because its Prometheus output adds
 * {@code _total} to every counter's name, and KubeDiag's counters have none: dashboards query them by the exact name.
 * Each component finds the set of the registry it was given with {@link #of}.
 */
public final class KubeDiagMetrics {
    private static final Map<MeterRegistry, KubeDiagMetrics> BY_REGISTRY = Collections.synchronizedMap(new WeakHashMap<>());
    /** Label text ({@code ""} for none, else {@code node="n1"}) to value, per series registered. */
    private final Map<KubeDiagMetric, Map<String, AtomicLong>> series = new ConcurrentHashMap<>();

    private KubeDiagMetrics() {
    }

    /** The set of a registry, created at first use. */
    public static KubeDiagMetrics of(MeterRegistry registry) {
        synchronized (BY_REGISTRY) {
            return BY_REGISTRY.computeIfAbsent(registry, r -> new KubeDiagMetrics());
        }
    }

    /** Serves every unlabelled series of a component from now on, at 0, as KubeDiag did from its start. */
    public KubeDiagMetrics register(KubeDiagMetric.Component component) {
        for (KubeDiagMetric metric : KubeDiagMetric.of(component)) {
            if (metric != KubeDiagMetric.NODE_ABNORMAL_COUNT) {
                counted(metric, "");
            }
        }
        return this;
    }

    /** Adds one to a counter. */
    public void increment(KubeDiagMetric metric) {
        if (metric.type() != KubeDiagMetric.Type.COUNTER) {
            throw new IllegalArgumentException(metric.seriesName() + " is not a counter");
        }
        counted(metric, "").incrementAndGet();
    }

    /** Replaces every series of a labelled gauge: one per label value. */
    public void set(KubeDiagMetric metric, String labelName, Map<String, Long> values) {
        if (metric.type() != KubeDiagMetric.Type.GAUGE) {
            throw new IllegalArgumentException(metric.seriesName() + " is not a gauge");
        }
        Map<String, AtomicLong> replaced = new ConcurrentSkipListMap<>();
        values.forEach((label, value) -> replaced.put(labelName + "=\"" + escape(label) + "\"", new AtomicLong(value)));
        series.put(metric, replaced);
    }

    private AtomicLong counted(KubeDiagMetric metric, String labels) {
        return series.computeIfAbsent(metric, m -> new ConcurrentSkipListMap<>()).computeIfAbsent(labels, l -> new AtomicLong());
    }

    /** The value of an unlabelled series; 0 when never counted. */
    public long get(KubeDiagMetric metric) {
        AtomicLong value = series.getOrDefault(metric, Map.of()).get("");
        return value == null ? 0 : value.get();
    }

    /** The series in Prometheus' text format 0.0.4, in {@link KubeDiagMetric} order. */
    public String scrape() {
        StringBuilder text = new StringBuilder();
        for (Map.Entry<KubeDiagMetric, Map<String, AtomicLong>> entry : new TreeMap<>(series).entrySet()) {
            KubeDiagMetric metric = entry.getKey();
            String name = metric.seriesName();
            text.append("# HELP ").append(name).append(' ').append(metric.help()).append('\n');
            text.append("# TYPE ").append(name).append(' ').append(metric.type().name().toLowerCase(Locale.ROOT)).append('\n');
            entry.getValue().forEach((labels, value) -> text.append(name).append(labels.isEmpty() ? "" : "{" + labels + "}")
                    .append(' ').append(value.get()).append('\n'));
        }
        return text.toString();
    }

    private static String escape(String labelValue) {
        return labelValue.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
