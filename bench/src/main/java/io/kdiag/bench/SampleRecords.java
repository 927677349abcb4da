package io.kdiag.bench;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.kdiag.model.FoldState;
import io.kdiag.model.StageDefinition;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Accepted;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.ProcessorStarted;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.StageOutcome;
import io.kdiag.schemas.avro.StageStarted;

/**
 * The records the benchmarks send and fold: requests with the no-op or the process-collector spec, and the typical
 * event sequence of one abnormal (collect, diagnose, recover; 13 events) with a collector output of a few KiB.
 */
public final class SampleRecords {
    /** Namespace of the built-ins, where the no-op workers are found too. */
    public static final String BUILTIN_NAMESPACE = "kube-diagnoser";
    /** Events of {@link #typicalEvents}. */
    public static final int TYPICAL_EVENTS = 13;

    private SampleRecords() {
    }

    /** Which processors a request assigns. */
    public enum Work {
        /** The three no-op workers: one per stage. */
        NOOP,
        /** The real process-collector (reads every /proc/PID of this host); diagnosis and recovery skipped. */
        PROCESS_COLLECTOR
    }

    /** The spec JSON of a request on {@code node}. */
    public static String spec(Work work, String node) {
        return switch (work) {
            case NOOP -> "{\"source\":\"Custom\",\"nodeName\":\"" + node + "\","
                    + "\"assignedInformationCollectors\":[{\"namespace\":\"" + BUILTIN_NAMESPACE + "\",\"name\":\"" + NoopWorker.COLLECTOR + "\"}],"
                    + "\"assignedDiagnosers\":[{\"namespace\":\"" + BUILTIN_NAMESPACE + "\",\"name\":\"" + NoopWorker.DIAGNOSER + "\"}],"
                    + "\"assignedRecoverers\":[{\"namespace\":\"" + BUILTIN_NAMESPACE + "\",\"name\":\"" + NoopWorker.RECOVERER + "\"}]}";
            case PROCESS_COLLECTOR -> "{\"source\":\"Custom\",\"nodeName\":\"" + node + "\","
                    + "\"assignedInformationCollectors\":[{\"namespace\":\"" + BUILTIN_NAMESPACE + "\",\"name\":\"process-collector\"}],"
                    + "\"skipDiagnosis\":true,\"skipRecovery\":true}";
        };
    }

    /** A request as the bridge forwards it. */
    public static AbnormalRequest request(String uid, String node, Work work) {
        return AbnormalRequest.newBuilder()
                .setUid(uid)
                .setNamespace("bench")
                .setName("bench-" + uid)
                .setNodeName(node)
                .setOrigin(Origin.IngestTopic)
                .setRequestedAt(Instant.now())
                .setSpec(spec(work, node))
                .setLabels(Map.of("kdiag.io/bench", "true"))
                .build();
    }

    /** The events of one collect → diagnose → recover abnormal, seq 0..12, as the agent emits them. */
    public static List<DiagnosisEvent> typicalEvents(String uid, String node) {
        Instant t = Instant.parse("2026-11-27T18:00:00Z");
        List<Object> payloads = new ArrayList<>();
        payloads.add(Accepted.newBuilder().setNamespace("bench").setName("bench-" + uid).setOrigin(Origin.IngestTopic)
                .setSpec(spec(Work.NOOP, node)).setLabels(Map.of("kdiag.io/bench", "true")).build());
        String[] names = {NoopWorker.COLLECTOR, NoopWorker.DIAGNOSER, NoopWorker.RECOVERER};
        for (StageDefinition definition : StageDefinition.values()) {
            Stage stage = definition.stage();
            NamespacedName processor = new NamespacedName(BUILTIN_NAMESPACE, names[stage.ordinal()]);
            payloads.add(new StageStarted(stage));
            payloads.add(new ProcessorStarted(stage, processor));
            payloads.add(ProcessorFinished.newBuilder().setStage(stage).setProcessor(processor).setSucceeded(true)
                    .setContextUpdates(stage == Stage.InformationCollection ? processList(24) : "{\"" + names[stage.ordinal()] + "\":{\"ok\":true}}")
                    .setDurationMillis(3).build());
            payloads.add(new StageFinished(stage, StageOutcome.Succeeded,
                    stage == Stage.InformationCollection ? null : processor, null, null));
        }
        List<DiagnosisEvent> events = new ArrayList<>();
        for (int seq = 0; seq < payloads.size(); seq++) {
            events.add(DiagnosisEvent.newBuilder().setAbnormalUid(uid).setSeq(seq).setNodeName(node)
                    .setTime(t.plusMillis(seq)).setPayload(payloads.get(seq)).build());
        }
        return events;
    }

    /** The final status of {@link #typicalEvents}, folded as the status writer folds it. */
    public static AbnormalStatus typicalStatus(String uid, String node) {
        FoldState state = FoldState.empty();
        typicalEvents(uid, node).forEach(e -> state.offer(e, FoldState.MAX_PENDING));
        return state.current();
    }

    /** A process-collector-like context update: {@code n} processes of ~150 bytes of JSON each. */
    static String processList(int n) {
        StringBuilder json = new StringBuilder("{\"processInformation\":[");
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                json.append(',');
            }
            json.append("{\"pid\":").append(1000 + i).append(",\"ppid\":1,\"name\":\"worker-").append(i)
                    .append("\",\"state\":\"S\",\"rssBytes\":").append(10_485_760L + i)
                    .append(",\"cmdline\":[\"/usr/bin/worker\",\"--id\",\"").append(i).append("\",\"--verbose\"],\"threads\":4}");
        }
        return json.append("]}").toString();
    }
}
