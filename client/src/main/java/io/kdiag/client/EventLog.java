package io.kdiag.client;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.kdiag.model.FoldState;
import io.kdiag.schemas.avro.DiagnosisEvent;

/**
 * Every recorded event, read once: per abnormal the fold of its events in the order they were recorded (exactly what
 * the status writer does, duplicates and all), and its events by seq (first copy wins, as in the fold).
 */
public final class EventLog {
    private final Map<String, FoldState> folds = new LinkedHashMap<>();
    private final Map<String, TreeMap<Long, DiagnosisEvent>> events = new LinkedHashMap<>();
    private long count;

    /** Reads the whole diagnosis-events topic as it is now. */
    public static EventLog read(KdiagClient client) {
        EventLog log = new EventLog();
        client.forEachEvent(log::add);
        return log;
    }

    /** Takes one more event, in the order it was recorded. */
    public void add(DiagnosisEvent event) {
        count++;
        try {
            folds.computeIfAbsent(event.getAbnormalUid(), uid -> FoldState.empty()).offer(event, FoldState.MAX_PENDING);
        } catch (IllegalArgumentException e) {
            // seq 0 that is not Accepted: the status writer cannot fold this abnormal either; it stays without a status
        }
        events.computeIfAbsent(event.getAbnormalUid(), uid -> new TreeMap<>()).putIfAbsent(event.getSeq(), event);
    }

    /** Events read. */
    public long count() {
        return count;
    }

    /** The replayed state of every abnormal with events, by uid; without a status when its Accepted is missing. */
    public Map<String, FoldState> folds() {
        return folds;
    }

    /** One abnormal's events in seq order, once per seq. */
    public List<DiagnosisEvent> events(String uid) {
        TreeMap<Long, DiagnosisEvent> bySeq = events.get(uid);
        return bySeq == null ? List.of() : new ArrayList<>(bySeq.values());
    }
}
