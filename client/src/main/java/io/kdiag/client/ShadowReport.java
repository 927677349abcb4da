package io.kdiag.client;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.kdiag.api.ApiSerialization;
import io.kdiag.model.ShadowVerdict;
import io.kdiag.schemas.avro.Accepted;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.ShadowFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.StageOutcome;

/**
 * How a processor in shadow mode compares with the real chain on the same abnormals, from the recorded events alone:
 * each of its runs ({@code ShadowFinished}) against the decision of the stage it ran beside ({@code StageFinished}). A
 * shadow diagnoser agrees when it identified the fault exactly where the real chain did (a diagnoser of the stage
 * succeeded); a shadow recoverer when it would have acted exactly where a real recoverer did. A stage that was skipped
 * counts as nothing identified, nothing done. Runs without a verdict ({@link ShadowVerdict#NO_VERDICT}: refused, failed,
 * timed out, lacking an input) are counted apart and compared with nothing.
 *
 * <pre>{@code
 * ShadowReport report = ShadowReport.of(EventLog.read(client), "kube-diagnoser/signal-recoverer",
 *         Instant.now().minus(Duration.ofDays(1)), 5);
 * System.out.println(report.wouldHaveActed() + " of " + report.runs() + " runs would have acted");
 * }</pre>
 *
 * @param processor the shadow, as asked for: {@code namespace/name} or a name alone (any namespace)
 * @param since abnormals accepted at or after this were considered
 * @param runs its runs on those abnormals
 * @param agreed runs whose verdict was the real chain's
 * @param disagreed runs whose verdict was not
 * @param identified runs of a diagnoser that identified the fault
 * @param wouldHaveActed runs of a recoverer that would have acted
 * @param noVerdict runs without a verdict
 * @param disagreements the first disagreements, newest first, at most the number asked for
 */
public record ShadowReport(String processor, Instant since, int runs, int agreed, int disagreed, int identified, int wouldHaveActed,
        int noVerdict, List<Comparison> disagreements) {

    /** Longest plan or output kept in a comparison's detail. */
    static final int MAX_DETAIL_CHARS = 200;

    /**
     * One shadow run beside the real chain.
     *
     * @param namespace the abnormal's namespace
     * @param name the abnormal's name
     * @param uid the abnormal's uid
     * @param time when the shadow finished
     * @param stage the stage it ran beside
     * @param shadow its verdict
     * @param shadowDetail its verdict as a person reads it, with what it would have set or done
     * @param real whether the real chain identified the fault (a diagnoser) or acted (a recoverer)
     * @param realDetail the real stage's decision as a person reads it
     */
    public record Comparison(String namespace, String name, String uid, Instant time, Stage stage, ShadowVerdict shadow,
            String shadowDetail, boolean real, String realDetail) {
    }

    /**
     * Compares every run of {@code processor} in shadow mode on the abnormals of {@code log} accepted since {@code since}.
     *
     * @param examples how many disagreements to keep
     */
    public static ShadowReport of(EventLog log, String processor, Instant since, int examples) {
        int runs = 0;
        int agreed = 0;
        int disagreed = 0;
        int identified = 0;
        int wouldHaveActed = 0;
        int noVerdict = 0;
        List<Comparison> disagreements = new ArrayList<>();
        for (String uid : log.folds().keySet()) {
            List<DiagnosisEvent> events = log.events(uid);
            if (events.isEmpty() || !(events.get(0).getPayload() instanceof Accepted accepted) || events.get(0).getTime().isBefore(since)) {
                continue;
            }
            for (DiagnosisEvent event : events) {
                if (!(event.getPayload() instanceof ShadowFinished shadow) || !names(processor, shadow.getProcessor())) {
                    continue;
                }
                runs++;
                ShadowVerdict verdict = ShadowVerdict.of(shadow);
                if (verdict == ShadowVerdict.NO_VERDICT) {
                    noVerdict++;
                    continue;
                }
                identified += verdict == ShadowVerdict.IDENTIFIED ? 1 : 0;
                wouldHaveActed += verdict == ShadowVerdict.WOULD_ACT ? 1 : 0;
                Optional<StageFinished> decision = decision(events, shadow.getStage());
                boolean real = decision.map(ShadowReport::positive).orElse(false);
                if (real == verdict.positive()) {
                    agreed++;
                } else {
                    disagreed++;
                    disagreements.add(new Comparison(accepted.getNamespace(), accepted.getName(), uid, event.getTime(), shadow.getStage(),
                            verdict, describe(shadow, verdict), real, decision.map(ShadowReport::describe).orElse("not decided")));
                }
            }
        }
        disagreements.sort((a, b) -> b.time().compareTo(a.time()));
        return new ShadowReport(processor, since, runs, agreed, disagreed, identified, wouldHaveActed, noVerdict,
                List.copyOf(disagreements.subList(0, Math.min(examples, disagreements.size()))));
    }

    /** Whether {@code asked} ({@code namespace/name}, or a name alone) names {@code processor}. */
    private static boolean names(String asked, NamespacedName processor) {
        return asked.equals(processor.getName()) || asked.equals(processor.getNamespace() + "/" + processor.getName());
    }

    /** The real stage's decision: its last {@code StageFinished}. */
    private static Optional<StageFinished> decision(List<DiagnosisEvent> events, Stage stage) {
        StageFinished found = null;
        for (DiagnosisEvent event : events) {
            if (event.getPayload() instanceof StageFinished finished && finished.getStage() == stage) {
                found = finished;
            }
        }
        return Optional.ofNullable(found);
    }

    private static boolean positive(StageFinished decision) {
        return decision.getOutcome() == StageOutcome.Succeeded && decision.getProcessor() != null;
    }

    private static String describe(StageFinished decision) {
        boolean recovery = decision.getStage() == Stage.Recovery;
        if (positive(decision)) {
            return (recovery ? "recovered by " : "identified by ") + decision.getProcessor().getNamespace() + "/" + decision.getProcessor().getName();
        }
        if (decision.getOutcome() == StageOutcome.Skipped) {
            return "skipped" + (decision.getMessage() == null ? "" : ": " + decision.getMessage());
        }
        return (recovery ? "not recovered" : "not identified") + (decision.getReason() == null ? "" : " (" + decision.getReason() + ")");
    }

    private static String describe(ShadowFinished shadow, ShadowVerdict verdict) {
        String detail = switch (verdict) {
            case IDENTIFIED -> shadow.getContextUpdates() == null ? ""
                    : ": " + String.join(", ", ApiSerialization.jsonObject(shadow.getContextUpdates()).keySet());
            case WOULD_ACT -> shadow.getPlan() == null ? "" : ": " + shadow.getPlan();
            default -> shadow.getReason() == null ? "" : " (" + shadow.getReason() + ")";
        };
        String text = verdict.text() + detail;
        return text.length() <= MAX_DETAIL_CHARS ? text : text.substring(0, MAX_DETAIL_CHARS) + "…";
    }

    /** The report as JSON-like data ({@code kdiag shadow report -o json}): the counts, then the disagreements. */
    public Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("processor", processor);
        map.put("since", since.toString());
        map.put("runs", runs);
        map.put("agreed", agreed);
        map.put("disagreed", disagreed);
        map.put("identified", identified);
        map.put("wouldHaveActed", wouldHaveActed);
        map.put("noVerdict", noVerdict);
        List<Map<String, Object>> examples = new ArrayList<>();
        for (Comparison c : disagreements) {
            Map<String, Object> example = new LinkedHashMap<>();
            example.put("namespace", c.namespace());
            example.put("name", c.name());
            example.put("uid", c.uid());
            example.put("time", c.time().toString());
            example.put("stage", c.stage().name());
            example.put("shadow", c.shadow().word());
            example.put("shadowDetail", c.shadowDetail());
            example.put("real", c.real());
            example.put("realDetail", c.realDetail());
            examples.add(example);
        }
        map.put("disagreements", examples);
        return map;
    }
}
