package io.kdiag.testkit;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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

/** Builds one abnormal's recorded events by hand, seq by seq, at chosen times after {@link #T0}. */
public final class RecordedEvents {
    public static final Instant T0 = Instant.parse("2026-11-27T12:01:00Z");
    private final String uid;
    private final List<DiagnosisEvent> events = new ArrayList<>();

    public RecordedEvents(String uid) {
        this.uid = uid;
    }

    public static NamespacedName builtin(String name) {
        return new NamespacedName("kube-diagnoser", name);
    }

    public RecordedEvents at(long millis, Object payload) {
        events.add(new DiagnosisEvent(uid, (long) events.size(), "node-1", T0.plusMillis(millis), payload));
        return this;
    }

    public RecordedEvents accepted(String name, String spec) {
        return at(0, new Accepted("default", name, Origin.IngestTopic, spec, Map.of()));
    }

    /** A process-collector run that found these processes (JSON array of {pid, command}). */
    public RecordedEvents collected(long from, String processes) {
        return at(from, new StageStarted(Stage.InformationCollection))
                .at(from + 1, new ProcessorStarted(Stage.InformationCollection, builtin("process-collector")))
                .at(from + 121, ProcessorFinished.newBuilder().setStage(Stage.InformationCollection)
                        .setProcessor(builtin("process-collector")).setSucceeded(true)
                        .setContextUpdates("{\"processInformation\":" + processes + "}").setDurationMillis(120).build())
                .at(from + 130, new StageFinished(Stage.InformationCollection, StageOutcome.Succeeded, null, null, null));
    }

    public RecordedEvents diagnosed(long from, String diagnoser, boolean identified, String updates, String reason) {
        at(from, new StageStarted(Stage.Diagnosis));
        at(from + 1, ProcessorFinished.newBuilder().setStage(Stage.Diagnosis).setProcessor(builtin(diagnoser))
                .setSucceeded(identified).setContextUpdates(updates).setReason(reason).setDurationMillis(3).build());
        return at(from + 5, new StageFinished(Stage.Diagnosis, identified ? StageOutcome.Succeeded : StageOutcome.Failed,
                identified ? builtin(diagnoser) : null, identified ? null : "DiagnosisFailed", identified ? null : "no diagnoser succeeded"));
    }

    public List<DiagnosisEvent> list() {
        return List.copyOf(events);
    }
}
