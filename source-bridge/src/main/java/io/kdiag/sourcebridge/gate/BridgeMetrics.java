package io.kdiag.sourcebridge.gate;

/**
 * The names of the bridge's counters (Prometheus {@code kdiag_bridge_*_total}), in one place because the gate and
 * every source count into them; each source tags its counts with its own {@code source}.
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
    /** Events and alerts that were not submitted, by {@code source} and {@code reason}. */
    public static final String UNFORWARDED = "kdiag.bridge.unforwarded";
    /** Abnormal CRs created for abnormals that did not start as one, by {@code result}. */
    public static final String MIRRORED = "kdiag.bridge.mirrored";

    private BridgeMetrics() {
    }
}
