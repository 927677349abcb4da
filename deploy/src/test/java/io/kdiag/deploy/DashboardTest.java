package io.kdiag.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import tools.jackson.core.type.TypeReference;

/** The Grafana dashboard queries only meters the code registers, and docs/operations.md lists every one of them. */
class DashboardTest {
    private static final String DASHBOARD = "dashboards/kube-diagnoser.json";
    /** Micrometer meter names in the sources: {@code "kdiag.agent.stage.duration"}. */
    private static final Pattern METER = Pattern.compile("\"(kdiag(?:\\.[a-z0-9]+)+)\"");
    /** What the Prometheus registry appends to a meter's name, by meter type. */
    private static final List<String> SUFFIXES = List.of("", "_total", "_seconds", "_seconds_bucket", "_seconds_count", "_seconds_sum",
            "_seconds_max");
    private static final Pattern SERIES = Pattern.compile("\\b(kdiag_[a-z0-9_]+)");

    @Test
    void shouldQueryOnlyMetersTheCodeRegisters() {
        Set<String> registered = registeredMeters();
        assertThat(registered).isNotEmpty();
        Set<String> queried = queriedSeries();
        assertThat(queried).isNotEmpty();
        for (String series : queried) {
            assertThat(registered).as(series + " is no meter of the code " + registered)
                    .anyMatch(meter -> SUFFIXES.stream().anyMatch(s -> series.equals(prometheusName(meter) + s)));
        }
    }

    @Test
    void shouldDocumentEveryMeterInTheOperationsGuide() {
        String operations = Repo.read("docs/operations.md");
        assertThat(registeredMeters()).allSatisfy(meter -> assertThat(operations).as("docs/operations.md lists " + meter)
                .contains("`" + prometheusName(meter)));
    }

    @Test
    void shouldUseOnlyTheDataSourceVariable() {
        Map<String, Object> dashboard = dashboard();
        assertThat(dashboard).containsEntry("uid", "kube-diagnoser");
        List<Map<String, Object>> panels = panels(dashboard);
        assertThat(panels).allSatisfy(p -> {
            if (!"row".equals(p.get("type"))) {
                assertThat(String.valueOf(p.get("datasource"))).contains("${datasource}");
            }
        });
    }

    /** Meter names of every source that uses Micrometer, across the deployables. */
    static Set<String> registeredMeters() {
        Set<String> meters = new TreeSet<>();
        for (String source : Repo.mainSources("common", "stage-workers", "node-agent", "source-bridge", "status-writer")) {
            if (source.contains("io.micrometer")) {
                Matcher m = METER.matcher(source);
                while (m.find()) {
                    meters.add(m.group(1));
                }
            }
        }
        return meters;
    }

    static String prometheusName(String meter) {
        return meter.replace('.', '_');
    }

    private static Set<String> queriedSeries() {
        Set<String> series = new TreeSet<>();
        String text = Repo.read(DASHBOARD);
        for (Map<String, Object> p : panels(dashboard())) {
            for (Object t : (List<?>) p.getOrDefault("targets", List.of())) {
                Matcher m = SERIES.matcher(String.valueOf(((Map<?, ?>) t).get("expr")));
                while (m.find()) {
                    series.add(m.group(1));
                }
            }
        }
        Matcher m = SERIES.matcher(text);
        while (m.find()) {
            series.add(m.group(1));
        }
        return series;
    }

    private static Map<String, Object> dashboard() {
        return Kustomize.SERIALIZATION.unmarshal(Repo.read(DASHBOARD), new TypeReference<Map<String, Object>>() {
        });
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> panels(Map<String, Object> dashboard) {
        List<Map<String, Object>> all = new ArrayList<>();
        for (Object p : (List<Object>) dashboard.get("panels")) {
            all.add((Map<String, Object>) p);
            all.addAll((List<Map<String, Object>>) ((Map<String, Object>) p).getOrDefault("panels", List.of()));
        }
        return all;
    }
}
