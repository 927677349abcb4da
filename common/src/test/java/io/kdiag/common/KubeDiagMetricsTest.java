package io.kdiag.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

import io.kdiag.common.metrics.KubeDiagMetric;
import io.kdiag.common.metrics.KubeDiagMetrics;
import io.kdiag.common.metrics.MetricsServer;
import io.micrometer.core.instrument.Counter;
import org.junit.jupiter.api.Test;

/** KubeDiag's series are served as KubeDiag served them: exact names (no _total), types, help texts, no labels. */
class KubeDiagMetricsTest {
    @Test
    void shouldServeKubeDiagsSeriesNextToOursUnderTheirExactNames() throws Exception {
        try (MetricsServer server = MetricsServer.start("127.0.0.1", 0)) {
            Counter.builder("kdiag.agent.stage.sync").tag("stage", "Diagnosis").tag("result", "skip").register(server.registry()).increment();
            KubeDiagMetrics kubediag = KubeDiagMetrics.of(server.registry()).register(KubeDiagMetric.Component.AGENT);
            kubediag.increment(KubeDiagMetric.DIAGNOSER_CHAIN_SYNC_SKIP_COUNT);
            kubediag.increment(KubeDiagMetric.DIAGNOSER_CHAIN_SYNC_SKIP_COUNT);
            KubeDiagMetrics.of(server.registry()).set(KubeDiagMetric.NODE_ABNORMAL_COUNT, "node", Map.of("node-1", 3L, "node-2", 0L));

            String scraped = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics"))
                    .build(), HttpResponse.BodyHandlers.ofString()).body();

            assertThat(scraped).contains("kdiag_agent_stage_sync_total{result=\"skip\",stage=\"Diagnosis\"} 1.0\n");
            assertThat(scraped).contains("""
                    # HELP diagnoser_chain_sync_skip_count Counter of skipped abnormal syncs by diagnoser chain
                    # TYPE diagnoser_chain_sync_skip_count counter
                    diagnoser_chain_sync_skip_count 2
                    """);
            assertThat(scraped).contains("\ninformation_manager_sync_success_count 0\n", "\nrecoverer_chain_profiler_fail_count 0\n");
            assertThat(scraped).contains("""
                    # TYPE node_abnormal_count gauge
                    node_abnormal_count{node="node-1"} 3
                    node_abnormal_count{node="node-2"} 0
                    """);
            assertThat(scraped).doesNotContain("_count_total", "prometheus_alert_received_count");
            assertThat(KubeDiagMetric.of(KubeDiagMetric.Component.AGENT)).hasSize(24);
            assertThat(KubeDiagMetric.of(KubeDiagMetric.Component.BRIDGE)).hasSize(10);
        }
    }
}
