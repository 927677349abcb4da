package io.kdiag.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import io.kdiag.api.ApiSerialization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MigrationCheckTest {
    private static final Path FIXTURES = Path.of("..", "examples", "kubediag");

    private static List<MigrationCheck.Report> check(String yaml) {
        List<MigrationCheck.Source> sources = new ArrayList<>();
        ApiSerialization.documents(yaml).forEach(d -> sources.add(new MigrationCheck.Source("test.yaml", d)));
        return MigrationCheck.check(sources);
    }

    private static MigrationCheck.Report only(String yaml) {
        List<MigrationCheck.Report> reports = check(yaml);
        assertThat(reports).hasSize(1);
        return reports.get(0);
    }

    private static List<String> notes(MigrationCheck.Report report) {
        return report.findings().stream().map(f -> f.path() + ": " + f.note()).toList();
    }

    @Test
    void shouldApplyEveryKubeDiagFixtureUnchangedAndSayWhatWorksDifferently() throws Exception {
        List<MigrationCheck.Source> sources = new ArrayList<>();
        try (Stream<Path> files = Files.list(FIXTURES)) {
            for (Path file : files.sorted().toList()) {
                ApiSerialization.documents(Files.readString(file)).forEach(d -> sources.add(new MigrationCheck.Source(file.toString(), d)));
            }
        }

        List<MigrationCheck.Report> reports = MigrationCheck.check(sources);

        assertThat(reports).hasSize(25).allSatisfy(r -> assertThat(r.verdict()).as(r.resource())
                .isIn(MigrationCheck.Verdict.UNCHANGED, MigrationCheck.Verdict.DIFFERS));
        MigrationCheck.Report remote = reports.stream().filter(r -> "jvm-oom-diagnoser".equals(r.name())).findFirst().orElseThrow();
        assertThat(notes(remote)).anySatisfy(n -> assertThat(n).startsWith("spec.scheme: the processor's TLS certificate and host name "
                + "are verified now (KubeDiag verified none)").contains("kdiag.io/insecure-skip-tls-verify"));
        assertThat(reports.stream().filter(r -> "unhealthy-source".equals(r.name())).findFirst().orElseThrow().verdict())
                .isEqualTo(MigrationCheck.Verdict.UNCHANGED);
        assertThat(notes(reports.stream().filter(r -> "process-collector".equals(r.name())).findFirst().orElseThrow()))
                .containsExactly("spec.path: registers a built-in: it runs in the agent's process, its path is not called; its "
                        + "timeoutSeconds (120) is the call's timeout");
    }

    @Test
    void shouldSayWhatTheApiServerWouldPruneOrRefuse() {
        MigrationCheck.Report v010 = only("""
                apiVersion: diagnosis.netease.com/v1
                kind: InformationCollector
                metadata: {name: metrics-collector, namespace: ops}
                spec: {ip: 10.0.0.5, port: "9000", path: /collect, metricPath: /metrics, readinessProbe: {periodSeconds: 10}}
                status: {ready: true}
                """);
        assertThat(v010.verdict()).isEqualTo(MigrationCheck.Verdict.CHANGED);
        assertThat(notes(v010)).contains(
                "spec.metricPath: pruned by the API server: not a field of Kube Diagnoser's InformationCollector (only KubeDiag v0.1.0 had it)",
                "spec.readinessProbe: pruned by the API server: not a field of Kube Diagnoser's InformationCollector (only KubeDiag v0.1.0 had it)");

        MigrationCheck.Report noNode = only("""
                apiVersion: diagnosis.netease.com/v1
                kind: Abnormal
                metadata: {name: nowhere}
                spec: {source: Custom}
                """);
        assertThat(notes(noNode)).containsExactly("spec: refused by the API server: either nodeName or podReference is required");
        assertThat(noNode.verdict()).isEqualTo(MigrationCheck.Verdict.CHANGED);

        MigrationCheck.Report lastAbnormal = only("""
                apiVersion: diagnosis.netease.com/v1
                kind: AbnormalSource
                metadata: {name: s}
                spec: {sourceTemplate: {type: KubernetesEvent, kubernetesEventTemplate: {regexp: {reason: BackOff}}}}
                status: {lastAbnormal: kubernetes-event.default.web-0.1}
                """);
        assertThat(notes(lastAbnormal)).containsExactly(
                "status.lastAbnormal: refused by the API server: must be an object, not the string \"kubernetes-event.default.web-0.1\"");
    }

    @Test
    void shouldSayWhichRulesTheBridgeCannotUseOrUsesDifferently() {
        MigrationCheck.Report rule = only("""
                apiVersion: diagnosis.netease.com/v1
                kind: AbnormalSource
                metadata: {name: alerts, namespace: kube-diagnoser}
                spec:
                  sourceTemplate:
                    type: PrometheusAlert
                    prometheusAlertTemplate:
                      regexp: {alertName: "(disk", labels: {"app.kubernetes.io/name": web}, endsAt: "2021"}
                  context: {signalRecovery: [{pid: 42, signal: 9}]}
                """);

        assertThat(notes(rule)).containsExactly(
                "spec.sourceTemplate.prometheusAlertTemplate.regexp.alertName: not a valid RE2 regular expression (error parsing "
                        + "regexp: missing closing ): `(disk`): the bridge does not use the rule and marks it with annotation "
                        + "kdiag.io/rule-error (KubeDiag never matched it either)",
                "spec.sourceTemplate.prometheusAlertTemplate.nodeNameReferenceLabel: empty: an alert it matches runs on the node of the "
                        + "pod its namespace and pod labels name, else it is dead-lettered (NodeNotFound); KubeDiag created no Abnormal for it either",
                "spec.sourceTemplate.prometheusAlertTemplate.regexp.labels.app.kubernetes.io/name: not a Prometheus label name: no alert "
                        + "has it, so the rule never matches (KubeDiag could not even read the rule)",
                "spec.sourceTemplate.prometheusAlertTemplate.regexp.endsAt: matched against the time as Go prints it (2021-03-01 08:10:12 "
                        + "+0000 UTC), in the zone of kdiag.template-time-zone (UTC unless set): set it to the zone KubeDiag ran in",
                "spec.context.signalRecovery: refused by the admission policy in an AbnormalSource: a rule would signal the same pids on "
                        + "every match",
                "spec.context: only the keys of sourceContextKeys in ConfigMap kube-diagnoser/kdiag-admission are admitted from users "
                        + "it does not trust");
        assertThat(rule.verdict()).isEqualTo(MigrationCheck.Verdict.CHANGED);
    }

    @Test
    void shouldResolveProcessorReferencesAgainstBuiltInsAndTheRegistrationsGiven() {
        List<MigrationCheck.Report> reports = check("""
                apiVersion: diagnosis.netease.com/v1
                kind: Abnormal
                metadata: {name: a, namespace: default}
                spec:
                  nodeName: node-1
                  assignedInformationCollectors: [{namespace: sre-tools, name: heap-collector}, {namespace: kube-diagnoser, name: pod-collector}]
                  assignedDiagnosers: [{namespace: sre-tools, name: missing}, {namespace: kube-diagnoser, name: process-collector}]
                status: {phase: Diagnosing}
                ---
                apiVersion: diagnosis.netease.com/v1
                kind: InformationCollector
                metadata: {name: heap-collector, namespace: sre-tools, annotations: {kdiag.io/insecure-skip-tls-verify: "true"}}
                spec: {externalIP: heap-collector.sre-tools.svc, externalPort: 8443, scheme: HTTPS}
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                """);

        assertThat(notes(reports.get(0))).containsExactly(
                "spec.assignedDiagnosers[0]: sre-tools/missing is no built-in of Kube Diagnoser and no Diagnoser registered in the files "
                        + "checked: it must be registered in the cluster, else it fails with ProcessorNotFound",
                "spec.assignedDiagnosers[1]: kube-diagnoser/process-collector is a built-in information collector, not a diagnoser: it fails",
                "status.phase: it was Diagnosing when KubeDiag stopped; it is not resumed: recreate it");
        assertThat(reports.get(1).verdict()).as("opted out of TLS verification, a Service").isEqualTo(MigrationCheck.Verdict.UNCHANGED);
        assertThat(reports.get(2).verdict()).isEqualTo(MigrationCheck.Verdict.SKIPPED);
    }

    @Test
    void shouldExitByTheWorstObject(@TempDir Path dir) throws Exception {
        Path same = Files.writeString(dir.resolve("same.yaml"), """
                apiVersion: diagnosis.netease.com/v1
                kind: Abnormal
                metadata: {name: disk, namespace: default}
                spec: {nodeName: node-1, assignedDiagnosers: [{namespace: kube-diagnoser, name: pod-disk-usage-diagnoser}]}
                """);
        Path pruned = Files.writeString(dir.resolve("pruned.yaml"), """
                apiVersion: diagnosis.netease.com/v1
                kind: Diagnoser
                metadata: {name: d, namespace: ops}
                spec: {ip: d.ops.svc, port: 80, readinessProbe: {}}
                """);

        StringWriter out = new StringWriter();
        CommandLine kdiag = KdiagCommand.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(new StringWriter()));

        assertThat(kdiag.execute("migrate", "check", same.toString())).isZero();
        assertThat(out.toString()).isEqualTo("""
                abnormal.diagnosis.netease.com/disk -n default: applies unchanged
                1 objects: 1 apply unchanged, 0 apply but work differently, 0 do not apply unchanged
                """);
        assertThat(kdiag.execute("migrate", "check", same.toString(), FIXTURES.resolve("registrations.yaml").toString()))
                .isEqualTo(MigrateCommand.DIFFERENCES);
        assertThat(kdiag.execute("migrate", "check", same.toString(), pruned.toString())).isEqualTo(MigrateCommand.NOT_UNCHANGED);
        assertThat(out.toString()).contains("diagnoser.diagnosis.netease.com/d -n ops: does not apply unchanged\n"
                + "  spec.readinessProbe: pruned by the API server");
        assertThat(kdiag.execute("migrate", "check", dir.resolve("missing.yaml").toString())).isEqualTo(1);
    }

    @Test
    void shouldReadYamlAsKubectlDoes() {
        assertThat(ApiSerialization.documents("--- # first\na: 1\n---\n# nothing\n---\nb: 2\n")).isEqualTo(List.of(Map.of("a", 1),
                Map.of("b", 2)));
    }
}
