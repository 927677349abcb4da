package io.kdiag.sourcebridge.gate;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

import io.kdiag.sourcebridge.request.Refusal;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The bridge's counters (Prometheus {@code kdiag_bridge_*_total}), named in one place because the gate and every
 * source count into them; each source tags its counts with its own {@code source}.
 */
public final class BridgeMetrics {
    /** Forwarded abnormals by {@code source}. */
    public static final String FORWARDED = "kdiag.bridge.forwarded";
    /** Refused submissions by {@code source} and {@code reason}. */
    public static final String REFUSED = "kdiag.bridge.refused";
    /** Suppressed matches by {@code source} and {@code reason}. */
    public static final String SUPPRESSED = "kdiag.bridge.suppressed";
    /** Ingest records by {@code result} and {@code reason}. */
    public static final String INGEST_RECORDS = "kdiag.bridge.ingest.records";
    /** Abnormal CRs created for abnormals that did not start as one, by {@code result}. */
    public static final String MIRRORED = "kdiag.bridge.mirrored";
    /** Events and alerts that were not submitted, by {@code source} and {@code reason}. */
    private static final String UNFORWARDED = "kdiag.bridge.unforwarded";

    /** The {@code source} tag of each way in. */
    public static final String SOURCE_CUSTOM_RESOURCE = "custom-resource";
    public static final String SOURCE_KUBERNETES_EVENT = "kubernetes-event";
    public static final String SOURCE_PROMETHEUS_ALERT = "prometheus-alert";
    public static final String SOURCE_LOG = "log";
    public static final String SOURCE_INGEST = "ingest";
    private static final List<String> SOURCES =
            List.of(SOURCE_CUSTOM_RESOURCE, SOURCE_KUBERNETES_EVENT, SOURCE_PROMETHEUS_ALERT, SOURCE_LOG, SOURCE_INGEST);

    private BridgeMetrics() {
    }

    /**
     * Every series the gate counts, at zero and with its help text from the start, so that rate() and the dashboard
     * have a series before the first abnormal: each source by each fate, each ingest record fate by each reason.
     */
    static void registerBaseline(MeterRegistry registry) {
        List<String> suppressions = Arrays.stream(Verdict.Outcome.values()).map(Verdict.Outcome::suppressionTag)
                .filter(Objects::nonNull).toList();
        for (String source : SOURCES) {
            Counter.builder(FORWARDED).description("Abnormals forwarded to the abnormals topic, by source")
                    .tag("source", source).register(registry);
            for (Refusal.Kind kind : Refusal.Kind.values()) {
                Counter.builder(REFUSED).description("Requests refused (invalid, unauthorised, node not found), by source and reason")
                        .tag("source", source).tag("reason", new Refusal(kind, "").reason()).register(registry);
            }
            for (String tag : suppressions) {
                Counter.builder(SUPPRESSED).description("Requests suppressed (duplicates, repeats, storms), by source and reason")
                        .tag("source", source).tag("reason", tag).register(registry);
            }
        }
        String ingest = "Records of the ingest topic, by fate (forwarded, suppressed, dropped, dead-lettered) and reason";
        Counter.builder(INGEST_RECORDS).description(ingest).tag("result", "forwarded").tag("reason", "none").register(registry);
        suppressions.forEach(tag -> Counter.builder(INGEST_RECORDS).description(ingest).tag("result", "suppressed").tag("reason", tag)
                .register(registry));
        for (Refusal.Kind kind : Refusal.Kind.values()) {
            for (String result : List.of("dropped", "dead-lettered")) {
                Counter.builder(INGEST_RECORDS).description(ingest).tag("result", result).tag("reason", kind.tag()).register(registry);
            }
        }
    }

    /** Counts an event or alert of {@code source} that was not submitted: no-rule, no-node, resolved or malformed. */
    public static void unforwarded(MeterRegistry registry, String source, String reason) {
        registry.counter(UNFORWARDED, "source", source, "reason", reason).increment();
    }
}
