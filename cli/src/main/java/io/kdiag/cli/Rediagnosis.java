package io.kdiag.cli;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.model.FoldState;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Accepted;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.StageOutcome;
import io.kdiag.stageworkers.WorkerRunner;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;

/**
 * Runs one diagnoser again on recorded abnormals: the context is rebuilt as it stood when information collection
 * finished (the fold of the events up to and including that StageFinished), the diagnoser runs on it, and its verdict is
 * compared with the recorded one. Only diagnosers: they have no side effects, recoverers do.
 */
final class Rediagnosis {
    private final StageWorker diagnoser;
    private final WorkerRunner runner;
    private final NodeServices node;
    private final Map<String, Object> contextOverrides;

    /**
     * @param contextOverrides {@code spec.context} entries to set before running, e.g. a changed pattern
     * @throws IllegalArgumentException when the worker is not a diagnoser
     */
    Rediagnosis(StageWorker diagnoser, WorkerRunner runner, NodeServices node, Map<String, Object> contextOverrides) {
        if (diagnoser.stage() != Stage.Diagnosis) {
            throw new IllegalArgumentException(diagnoser.name() + " is not a diagnoser but runs in stage " + diagnoser.stage()
                    + "; only diagnosers are run again (they have no side effects)");
        }
        this.diagnoser = diagnoser;
        this.runner = runner;
        this.node = node;
        this.contextOverrides = Map.copyOf(contextOverrides);
    }

    /**
     * What a diagnoser concluded.
     *
     * @param ran whether it ran at all
     * @param identified whether it identified the fault
     * @param keys the context keys it wrote
     * @param reason why it did not identify, for a person; not compared
     */
    record Verdict(boolean ran, boolean identified, SortedSet<String> keys, String reason) {
        static final Verdict NOT_RUN = new Verdict(false, false, new TreeSet<>(), null);

        static Verdict of(boolean identified, Iterable<String> keys, String reason) {
            SortedSet<String> sorted = new TreeSet<>();
            keys.forEach(sorted::add);
            return new Verdict(true, identified, sorted, reason);
        }

        /** Same outcome: both ran or not, same identification, same keys written. */
        boolean sameAs(Verdict other) {
            return ran == other.ran && identified == other.identified && keys.equals(other.keys);
        }

        String describe() {
            if (!ran) {
                return "not run";
            }
            if (identified) {
                return keys.isEmpty() ? "identified" : "identified: " + String.join(", ", keys);
            }
            return "not identified" + (reason == null ? "" : " (" + reason + ")");
        }
    }

    /**
     * One abnormal whose verdict changed.
     *
     * @param status the abnormal as it stood after information collection
     * @param recorded what the diagnoser concluded then ({@link Verdict#NOT_RUN} if it did not run)
     * @param rediagnosed what it concludes now
     */
    record Finding(AbnormalStatus status, Verdict recorded, Verdict rediagnosed) {
    }

    /**
     * The outcome of a whole run.
     *
     * @param since abnormals accepted at or after this were considered
     * @param considered abnormals accepted since then
     * @param rediagnosed those with a successful information collection, on which the diagnoser ran
     * @param differing those whose verdict changed
     */
    record Outcome(Instant since, int considered, int rediagnosed, List<Finding> differing) {
    }

    /** Runs the diagnoser on every abnormal of the log accepted since {@code since}. */
    Outcome run(EventLog log, Instant since) throws InterruptedException {
        int considered = 0;
        int rediagnosed = 0;
        List<Finding> differing = new ArrayList<>();
        for (String uid : log.folds().keySet()) {
            List<DiagnosisEvent> events = log.events(uid);
            if (events.isEmpty() || !(events.get(0).getPayload() instanceof Accepted) || events.get(0).getTime().isBefore(since)) {
                continue;
            }
            considered++;
            Optional<Finding> finding = rediagnose(events);
            if (finding.isEmpty()) {
                continue;
            }
            rediagnosed++;
            if (!finding.get().recorded().sameAs(finding.get().rediagnosed())) {
                differing.add(finding.get());
            }
        }
        return new Outcome(since, considered, rediagnosed, differing);
    }

    /** Re-runs the diagnoser on one abnormal's events (in seq order); empty when collection never succeeded. */
    Optional<Finding> rediagnose(List<DiagnosisEvent> events) throws InterruptedException {
        FoldState fold = FoldState.empty();
        boolean collected = false;
        for (DiagnosisEvent event : events) {
            fold.offer(event, FoldState.MAX_PENDING);
            if (event.getPayload() instanceof StageFinished f && f.getStage() == Stage.InformationCollection) {
                collected = f.getOutcome() == StageOutcome.Succeeded;
                break;
            }
        }
        if (!collected || fold.current() == null) {
            return Optional.empty();
        }
        AbnormalStatus status = fold.current();
        AbnormalSpec spec = ApiSerialization.spec(status.getSpec());
        if (!contextOverrides.isEmpty()) {
            Map<String, Object> context = new LinkedHashMap<>(spec.context == null ? Map.of() : spec.context);
            context.putAll(contextOverrides);
            spec.context = context;
        }
        WorkResult result = runner.run(diagnoser, new WorkContext(status.getUid(), status.getNamespace(), status.getName(),
                status.getNodeName(), spec, ApiSerialization.jsonObject(status.getContext()), node), diagnoser.timeout());
        Verdict now = Verdict.of(result.succeeded(), result.contextUpdates().keySet(), result.reason());
        return Optional.of(new Finding(status, recorded(events, diagnoser.name()), now));
    }

    /** The verdict the diagnoser reached in the recorded run, or {@link Verdict#NOT_RUN}. */
    static Verdict recorded(List<DiagnosisEvent> events, String diagnoser) {
        for (DiagnosisEvent event : events) {
            if (event.getPayload() instanceof ProcessorFinished p && p.getStage() == Stage.Diagnosis
                    && diagnoser.equals(p.getProcessor().getName())) {
                return Verdict.of(p.getSucceeded(), ApiSerialization.jsonObject(p.getContextUpdates()).keySet(), p.getReason());
            }
        }
        return Verdict.NOT_RUN;
    }
}
