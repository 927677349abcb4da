package io.kdiag.statuswriter.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalCondition;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.AbnormalStatus;
import io.kdiag.common.metrics.KubeDiagMetric;
import io.kdiag.common.metrics.KubeDiagMetrics;
import io.kdiag.testkit.MockCluster;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class AbnormalReaperTest {
    private static final Instant NOW = Instant.parse("2026-01-10T12:00:00Z");
    private static final Duration TTL = Duration.ofHours(240);
    private static final Duration MINIMUM_TTL = Duration.ofMinutes(30);

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void shouldDeleteAbnormalsOlderThanTheTtlWhateverTheirPhase() {
        Abnormal old = abnormal("old", "node-a", "Diagnosing", NOW.minus(TTL).minusSeconds(1), null);
        Abnormal young = abnormal("young", "node-a", "Diagnosing", NOW.minus(TTL).plusSeconds(1), null);

        assertThat(names(reaper(20).toDelete(List.of(old, young)))).containsExactly("old");
    }

    @Test
    void shouldDeleteFinishedAbnormalsOnlyTheMinimumTtlAfterTheyFinished() {
        Instant longAgo = NOW.minus(Duration.ofHours(5));
        Abnormal succeededLongAgo = abnormal("succeeded", "node-a", "Succeeded", longAgo, longAgo.plusSeconds(10));
        Abnormal failedJustNow = abnormal("failed-now", "node-a", "Failed", longAgo, NOW.minus(MINIMUM_TTL).plusSeconds(1));
        Abnormal failedLongAgo = abnormal("failed", "node-a", "Failed", longAgo, NOW.minus(MINIMUM_TTL).minusSeconds(1));
        Abnormal running = abnormal("running", "node-a", "Recovering", longAgo, null);

        assertThat(names(reaper(20).toDelete(List.of(succeededLongAgo, failedJustNow, failedLongAgo, running))))
                .containsExactlyInAnyOrder("succeeded", "failed");
    }

    @Test
    void shouldDeleteTheOldestBeyondTheMaximumPerNodeCountingOnlyThoseKept() {
        List<Abnormal> abnormals = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            abnormals.add(abnormal("a" + i, "node-a", "Diagnosing", NOW.minus(Duration.ofMinutes(10 - i)), null));
        }
        abnormals.add(abnormal("b0", "node-b", "Diagnosing", NOW.minus(Duration.ofHours(1)), null));
        abnormals.add(abnormal("b1", "node-b", "Diagnosing", NOW.minus(Duration.ofHours(2)), null));
        // already deleted by the age rule, so not counted against the maximum
        abnormals.add(abnormal("a-expired", "node-a", "Diagnosing", NOW.minus(TTL).minusSeconds(1), null));

        assertThat(names(reaper(3).toDelete(abnormals))).containsExactlyInAnyOrder("a-expired", "a0", "a1");
    }

    @Test
    void shouldAgeAnAbnormalNotYetAcceptedFromItsCreation() {
        Abnormal fresh = abnormal("fresh", "node-a", null, null, null);
        fresh.getMetadata().setCreationTimestamp(NOW.minusSeconds(5).toString());
        Abnormal stale = abnormal("stale", "node-a", null, null, null);
        stale.getMetadata().setCreationTimestamp(NOW.minus(TTL).minusSeconds(5).toString());

        assertThat(names(reaper(20).toDelete(List.of(fresh, stale)))).containsExactly("stale");
    }

    @Test
    void shouldDeleteTheSelectedCrsFromTheCluster() {
        try (MockCluster cluster = new MockCluster()) {
            cluster.createAbnormal("default", "kept", "uid-kept");
            cluster.createAbnormal("default", "finished", "uid-finished");
            Abnormal finished = cluster.abnormal("default", "finished");
            AbnormalStatus status = status("Succeeded", NOW.minus(Duration.ofHours(2)), NOW.minus(Duration.ofHours(1)));
            finished.setStatus(status);
            cluster.client().resource(finished).replaceStatus();
            Abnormal kept = cluster.abnormal("default", "kept");
            kept.setStatus(status("Diagnosing", NOW.minus(Duration.ofHours(2)), null));
            cluster.client().resource(kept).replaceStatus();

            new AbnormalReaper(cluster.client(), TTL, MINIMUM_TTL, 20, Clock.fixed(NOW, ZoneOffset.UTC), registry).reapOnce();

            assertThat(cluster.abnormal("default", "finished")).isNull();
            assertThat(cluster.abnormal("default", "kept")).isNotNull();
            assertThat(registry.find(AbnormalReaper.METRIC).tag("result", "deleted").counter().count()).isEqualTo(1.0);
            // and as KubeDiag counted: deletions, and the CRs of each node found by the round
            KubeDiagMetrics kubediag = KubeDiagMetrics.of(registry);
            assertThat(kubediag.get(KubeDiagMetric.ABNORMAL_GARBAGE_COLLECTION_SUCCESS_COUNT)).isEqualTo(1);
            assertThat(kubediag.get(KubeDiagMetric.ABNORMAL_GARBAGE_COLLECTION_ERROR_COUNT)).isZero();
            assertThat(kubediag.scrape()).contains("node_abnormal_count{node=\"10.177.16.22\"} 2\n");
        }
    }

    private AbnormalReaper reaper(int maximumPerNode) {
        return new AbnormalReaper(null, TTL, MINIMUM_TTL, maximumPerNode, Clock.fixed(NOW, ZoneOffset.UTC), registry);
    }

    private static Abnormal abnormal(String name, String node, String phase, Instant start, Instant finished) {
        Abnormal abnormal = new Abnormal();
        abnormal.setMetadata(new ObjectMetaBuilder().withNamespace("default").withName(name).build());
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = node;
        abnormal.setSpec(spec);
        abnormal.setStatus(phase == null ? null : status(phase, start, finished));
        return abnormal;
    }

    private static AbnormalStatus status(String phase, Instant start, Instant finished) {
        AbnormalStatus status = new AbnormalStatus();
        status.phase = phase;
        status.startTime = start.toString();
        if (finished != null) {
            AbnormalCondition collected = new AbnormalCondition();
            collected.type = "InformationCollected";
            collected.status = "True";
            collected.lastTransitionTime = start.toString();
            AbnormalCondition last = new AbnormalCondition();
            last.type = "Identified";
            last.status = "True";
            last.lastTransitionTime = finished.toString();
            status.conditions = List.of(collected, last);
        }
        return status;
    }

    private static List<String> names(List<Abnormal> abnormals) {
        return abnormals.stream().map(a -> a.getMetadata().getName()).toList();
    }
}
