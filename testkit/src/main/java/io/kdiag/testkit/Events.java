package io.kdiag.testkit;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.kdiag.schemas.avro.AbnormalFailed;
import io.kdiag.schemas.avro.Accepted;
import io.kdiag.schemas.avro.CommandFinished;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.ProcessorStarted;
import io.kdiag.schemas.avro.ProfilerExpired;
import io.kdiag.schemas.avro.ProfilerFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.StageOutcome;
import io.kdiag.schemas.avro.StageStarted;

/** Builds one abnormal's events with consecutive seqs, one second apart, as an agent would write them. */
public final class Events {
    public static final Instant START = Instant.parse("2020-08-13T07:44:42Z");
    public static final String NODE = "10.177.16.22";
    public static final NamespacedName POD_COLLECTOR = new NamespacedName("kube-diagnoser", "pod-collector");
    public static final NamespacedName POD_DISK_USAGE_DIAGNOSER = new NamespacedName("kube-diagnoser", "pod-disk-usage-diagnoser");
    public static final String SEED_SPEC = """
            {"source":"Custom","nodeName":"10.177.16.22",\
            "assignedInformationCollectors":[{"name":"pod-collector","namespace":"kube-diagnoser"}],\
            "assignedDiagnosers":[{"name":"pod-disk-usage-diagnoser","namespace":"kube-diagnoser"}],\
            "skipInformationCollection":false,"skipDiagnosis":false,"skipRecovery":true}""";
    public static final String POD_DISK_USAGE = """
            {"podDiskUsageDiagnosis":[{"diskUsage":77824,\
            "metadata":{"name":"kube-flannel-ds-amd64-qdjtb","namespace":"kube-system",\
            "uid":"2bfed5a3-67fd-4721-99ae-6d584150c891","labels":{"app":"flannel","tier":"node"}},\
            "path":"/var/lib/kubelet/pods/2bfed5a3-67fd-4721-99ae-6d584150c891"}]}""";

    private final String uid;
    private final List<DiagnosisEvent> all = new ArrayList<>();

    public Events(String uid) {
        this.uid = uid;
    }

    /** The seed's run: collection and diagnosis succeed, recovery is skipped. */
    public static List<DiagnosisEvent> seedRun(String uid) {
        Events e = new Events(uid);
        e.accepted();
        e.add(new StageStarted(Stage.InformationCollection));
        e.add(new ProcessorStarted(Stage.InformationCollection, POD_COLLECTOR));
        e.processorFinished(Stage.InformationCollection, POD_COLLECTOR, "{\"podInformation\":[{\"name\":\"kube-flannel-ds-amd64-qdjtb\"}]}");
        e.command(Stage.InformationCollection, "df", "-h");
        e.stageFinished(Stage.InformationCollection, StageOutcome.Succeeded, null);
        e.add(new StageStarted(Stage.Diagnosis));
        e.add(new ProcessorStarted(Stage.Diagnosis, POD_DISK_USAGE_DIAGNOSER));
        e.processorFinished(Stage.Diagnosis, POD_DISK_USAGE_DIAGNOSER, POD_DISK_USAGE);
        e.stageFinished(Stage.Diagnosis, StageOutcome.Succeeded, POD_DISK_USAGE_DIAGNOSER);
        e.stageFinished(Stage.Recovery, StageOutcome.Skipped, null);
        return e.all();
    }

    /** The same events moved in time so that the first one happens at {@code start}. */
    public static List<DiagnosisEvent> startingAt(Instant start, List<DiagnosisEvent> events) {
        Duration shift = Duration.between(events.get(0).getTime(), start);
        return events.stream().map(e -> DiagnosisEvent.newBuilder(e).setTime(e.getTime().plus(shift)).build()).toList();
    }

    /** Every event so far. */
    public List<DiagnosisEvent> all() {
        return List.copyOf(all);
    }

    public DiagnosisEvent accepted() {
        return add(new Accepted("default", "pod-disk-usage-diagnosis", Origin.CustomResource, SEED_SPEC, Map.of("team", "sre")));
    }

    public DiagnosisEvent processorFinished(Stage stage, NamespacedName processor, String contextUpdates, String... removedKeys) {
        return add(new ProcessorFinished(stage, processor, true, contextUpdates, List.of(removedKeys), null, null, 10L));
    }

    public DiagnosisEvent command(Stage stage, String... command) {
        return add(new CommandFinished(stage, List.of(command), "out", "", null, 5L));
    }

    public DiagnosisEvent profiler(String name, String endpoint) {
        return add(new ProfilerFinished(Stage.InformationCollection, name, endpoint, null));
    }

    public DiagnosisEvent profilerExpired(String name) {
        return add(new ProfilerExpired(name));
    }

    public DiagnosisEvent stageFinished(Stage stage, StageOutcome outcome, NamespacedName processor) {
        boolean failed = outcome == StageOutcome.Failed;
        return add(new StageFinished(stage, outcome, processor, failed ? "NoProcessorSucceeded" : null,
                failed ? "every processor of " + stage + " failed" : null));
    }

    public DiagnosisEvent abnormalFailed(String reason, String message) {
        return add(new AbnormalFailed(reason, message));
    }

    public DiagnosisEvent add(Object payload) {
        long seq = all.size();
        DiagnosisEvent event = new DiagnosisEvent(uid, seq, NODE, START.plusSeconds(seq), payload);
        all.add(event);
        return event;
    }
}
