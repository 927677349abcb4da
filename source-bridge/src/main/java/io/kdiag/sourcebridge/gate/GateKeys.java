package io.kdiag.sourcebridge.gate;

import java.time.Duration;

import io.kdiag.common.config.CommonKeys;
import io.kdiag.common.config.ConfigKey;

/** De-duplication and storm keys, shared by the bridge and the log source. */
public final class GateKeys {
    /** How long the same fault is not started again. */
    public static final ConfigKey<Duration> REPEAT_INTERVAL = ConfigKey.duration("kdiag.repeat-interval", "6h",
            "After an abnormal was started for a fault (an alert fingerprint, an event, a log rule reason on a node), the same "
                    + "fault starts no other abnormal for this long.");
    /** Storm limit per node. */
    public static final ConfigKey<Integer> STORM_PER_NODE = ConfigKey.integer("kdiag.storm.per-node-per-minute", 10, 1, 1_000_000,
            "At most this many automatic abnormals (events, alerts, logs) start per node and minute; the rest are suppressed.");
    /** Storm limit for the cluster. */
    public static final ConfigKey<Integer> STORM_CLUSTER = ConfigKey.integer("kdiag.storm.cluster-per-minute", 100, 1, 10_000_000,
            "At most this many automatic abnormals start per minute over all nodes; the rest are suppressed.");
    /** How long the gate's forwarding loop may make no progress while it has work. */
    public static final ConfigKey<Duration> STALL_TIMEOUT = CommonKeys.stallTimeout("2m",
            "the gate's forwarding loop (every source's one way into the abnormals topic)");
    /** Where derived abnormals live. */
    public static final ConfigKey<String> ABNORMAL_NAMESPACE = ConfigKey.string("kdiag.abnormal-namespace", "kube-diagnoser",
            "Namespace of the abnormals started from events, alerts and logs (and of their CRs).");

    private GateKeys() {
    }
}
