package io.kdiag.sourcebridge.gate;

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

    private BridgeMetrics() {
    }

    /** Counts an event or alert of {@code source} that was not submitted: no-rule, no-node, resolved or malformed. */
    public static void unforwarded(MeterRegistry registry, String source, String reason) {
        registry.counter(UNFORWARDED, "source", source, "reason", reason).increment();
    }
}
