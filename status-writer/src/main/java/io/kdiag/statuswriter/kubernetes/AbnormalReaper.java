package io.kdiag.statuswriter.kubernetes;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalCondition;
import io.kdiag.common.metrics.KubeDiagMetric;
import io.kdiag.common.metrics.KubeDiagMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes old Abnormal CRs, as the original's AbnormalReaper did, every {@code ttl/4} starting at once. Per node
 * ({@code spec.nodeName}; CRs without one form a group of their own) it deletes a CR when:
 * <ol>
 * <li>it is older than {@code ttl}, or</li>
 * <li>it is Succeeded or Failed and finished more than {@code minimumTtl} ago, or</li>
 * <li>it is among the oldest of the CRs that the first two rules keep, beyond {@code maximumPerNode}.</li>
 * </ol>
 * Age counts from {@code status.startTime}, or from {@code metadata.creationTimestamp} for a CR not yet accepted
 * (the original took the zero time there and deleted such CRs at once). A finished CR finished at its latest
 * condition transition, or at its start when it has no condition. Only the CR goes: the history stays in Kafka.
 * Counts {@code kdiag_status_gc_total{result=deleted|error}}, and KubeDiag's {@code abnormal_garbage_collection_success_count},
 * {@code abnormal_garbage_collection_error_count} and {@code node_abnormal_count} (here one series per node, by label
 * {@code node}: the CRs each node had at the last round, before it deleted any, as KubeDiag's agents counted theirs).
 */
public final class AbnormalReaper implements AutoCloseable {
    static final String METRIC = "kdiag.status.gc";
    private static final Logger LOG = LoggerFactory.getLogger(AbnormalReaper.class);

    private final KubernetesClient client;
    private final Duration ttl;
    private final Duration minimumTtl;
    private final int maximumPerNode;
    private final Clock clock;
    private final MeterRegistry registry;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "kdiag-status-reaper");
        t.setDaemon(true);
        return t;
    });

    /** A reaper of {@code client}'s Abnormal CRs with the limits above, counting its deletions in {@code registry}. */
    public AbnormalReaper(KubernetesClient client, Duration ttl, Duration minimumTtl, int maximumPerNode, Clock clock, MeterRegistry registry) {
        this.client = client;
        this.ttl = ttl;
        this.minimumTtl = minimumTtl;
        this.maximumPerNode = maximumPerNode;
        this.clock = clock;
        this.registry = registry;
    }

    /** Reaps now and then every ttl/4. */
    public void start() {
        long period = Math.max(1, ttl.dividedBy(4).toMillis());
        scheduler.scheduleAtFixedRate(this::reapOnce, 0, period, TimeUnit.MILLISECONDS);
    }

    /** One round: lists every Abnormal CR and deletes what {@link #toDelete} selects. */
    void reapOnce() {
        List<Abnormal> all;
        try {
            all = client.resources(Abnormal.class).inAnyNamespace().list().getItems();
        } catch (RuntimeException e) {
            count("error");
            LOG.warn("abnormal garbage collection skipped: cannot list abnormals reason={}", e.toString());
            return;
        }
        Map<String, Long> perNode = new TreeMap<>();
        for (Abnormal abnormal : all) {
            String node = abnormal.getSpec() == null ? null : abnormal.getSpec().nodeName;
            if (node != null && !node.isEmpty()) {
                perNode.merge(node, 1L, Long::sum);
            }
        }
        KubeDiagMetrics.of(registry).set(KubeDiagMetric.NODE_ABNORMAL_COUNT, "node", perNode);
        List<Abnormal> doomed = toDelete(all);
        int deleted = 0;
        for (Abnormal abnormal : doomed) {
            String namespace = abnormal.getMetadata().getNamespace();
            String name = abnormal.getMetadata().getName();
            try {
                client.resource(abnormal).delete();
                count("deleted");
                deleted++;
            } catch (KubernetesClientException e) {
                count("error");
                LOG.warn("abnormal not deleted namespace={} name={} code={} reason={}", namespace, name, e.getCode(), e.getMessage());
            }
        }
        if (!doomed.isEmpty()) {
            LOG.info("abnormals garbage collected count={} of={}", deleted, all.size());
        }
    }

    /** The CRs to delete now, by the three rules. */
    List<Abnormal> toDelete(List<Abnormal> abnormals) {
        Instant now = clock.instant();
        Map<String, List<Abnormal>> byNode = new LinkedHashMap<>();
        for (Abnormal abnormal : abnormals) {
            String node = abnormal.getSpec() == null ? null : abnormal.getSpec().nodeName;
            byNode.computeIfAbsent(Objects.requireNonNullElse(node, ""), n -> new ArrayList<>()).add(abnormal);
        }
        List<Abnormal> doomed = new ArrayList<>();
        for (List<Abnormal> onNode : byNode.values()) {
            List<Abnormal> kept = new ArrayList<>();
            for (Abnormal abnormal : onNode) {
                Instant started = started(abnormal);
                boolean expired = started != null && Duration.between(started, now).compareTo(ttl) > 0;
                Instant finished = finished(abnormal);
                boolean finishedLongAgo = finished != null && Duration.between(finished, now).compareTo(minimumTtl) > 0;
                (expired || finishedLongAgo ? doomed : kept).add(abnormal);
            }
            if (kept.size() > maximumPerNode) {
                kept.sort(Comparator.comparing(AbnormalReaper::started, Comparator.nullsLast(Comparator.naturalOrder())));
                doomed.addAll(kept.subList(0, kept.size() - maximumPerNode));
            }
        }
        return doomed;
    }

    private static Instant started(Abnormal abnormal) {
        Instant start = abnormal.getStatus() == null ? null : parse(abnormal.getStatus().startTime);
        return start != null ? start : parse(abnormal.getMetadata().getCreationTimestamp());
    }

    private static Instant finished(Abnormal abnormal) {
        if (abnormal.getStatus() == null) {
            return null;
        }
        String phase = abnormal.getStatus().phase;
        if (!"Succeeded".equals(phase) && !"Failed".equals(phase)) {
            return null;
        }
        List<AbnormalCondition> conditions = abnormal.getStatus().conditions;
        return (conditions == null ? List.<AbnormalCondition>of() : conditions).stream()
                .map(c -> parse(c.lastTransitionTime))
                .filter(Objects::nonNull)
                .max(Comparator.naturalOrder())
                .orElseGet(() -> started(abnormal));
    }

    private static Instant parse(String time) {
        if (time == null || time.isBlank()) {
            return null;
        }
        try {
            return Instant.parse(time);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private void count(String result) {
        counter(registry, result).increment();
        KubeDiagMetrics.of(registry).increment("deleted".equals(result) ? KubeDiagMetric.ABNORMAL_GARBAGE_COLLECTION_SUCCESS_COUNT
                : KubeDiagMetric.ABNORMAL_GARBAGE_COLLECTION_ERROR_COUNT);
    }

    private static Counter counter(MeterRegistry registry, String result) {
        return Counter.builder(METRIC).description("Abnormal CRs garbage collected, by result").tag("result", result).register(registry);
    }

    /** Both results at zero from the start (with or without a cluster), KubeDiag's series too. */
    public static void registerMetrics(MeterRegistry registry) {
        counter(registry, "deleted");
        counter(registry, "error");
        KubeDiagMetrics.of(registry).register(KubeDiagMetric.Component.STATUS_WRITER);
    }

    /** Stops the rounds; one in progress is interrupted. */
    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
