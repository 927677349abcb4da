package io.kdiag.common.kafka;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * The names one installation uses in Kafka besides its topics: consumer groups, transactional ids, the status
 * writer's Kafka Streams application id (which also prefixes its internal topics) and the gate's own topics. Every one
 * starts with the installation's topic prefix ({@code kdiag.topic-prefix}), so installations sharing a Kafka cluster
 * never join each other's groups, fence each other's transactions or read each other's state. With the default prefix
 * {@code kdiag.}: the bridge's group {@code kdiag.source-bridge}, an agent's group {@code kdiag.node-agent-<node>}, the
 * status writer's application id {@code kdiag.status-writer} (which starts its transactional ids too).
 *
 * @param prefix the topic prefix
 */
public record KafkaNames(String prefix) {
    /** Checks the prefix. */
    public KafkaNames {
        Objects.requireNonNull(prefix, "prefix");
    }

    /** Consumer group of every bridge replica on the ingest topic. */
    public String bridgeGroup() {
        return prefix + "source-bridge";
    }

    /** What every agent's consumer group starts with. */
    public String agentGroupPrefix() {
        return prefix + "node-agent-";
    }

    /** The consumer group (committed offsets only: the agent assigns its partition) of the agent of {@code node}. */
    public String agentGroup(String node) {
        return agentGroupPrefix() + node;
    }

    /**
     * The status writer's Kafka Streams application id: its consumer group, the start of its transactional ids
     * ({@code <id>-<process>-<thread>}) and of its internal topics ({@code <id>-<store>-changelog}).
     */
    public String statusWriterApplicationId() {
        return prefix + "status-writer";
    }

    /**
     * The Kafka Streams application id of the recovery budget arbiter that runs in the status writer beside its fold (an
     * application of its own: it runs exactly-once, the fold at-least-once): its consumer group, and under the status
     * writer's application id, so the prefixes of its internal topics and transactional ids are the status writer's.
     */
    public String budgetArbiterApplicationId() {
        return budgetArbiterApplicationId(statusWriterApplicationId());
    }

    /** The budget arbiter's application id beside the status writer's {@code statusWriterApplicationId}. */
    public static String budgetArbiterApplicationId(String statusWriterApplicationId) {
        return statusWriterApplicationId + "-budget-arbiter";
    }

    /** The gate's dedup state, shared by the bridge and the log sources (compacted). */
    public String bridgeStateTopic() {
        return prefix + "bridge-state";
    }

    /** The gate's record of storm-limited abnormals started, the budget every gate of the installation shares. */
    public String stormLedgerTopic() {
        return prefix + "storm-ledger";
    }

    /**
     * The name of this running instance: {@code configured} when set (the manifests pass the pod name), else the host
     * name, which in a pod is the pod name. It names the static group membership and the transactional id, both of
     * which a restart with the same name takes over at once instead of waiting out the previous instance's session.
     */
    public static String instanceId(String configured) {
        if (configured != null && !configured.isBlank()) {
            return configured.strip();
        }
        String host = System.getenv("HOSTNAME");
        if (host != null && !host.isBlank()) {
            return host.strip();
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
