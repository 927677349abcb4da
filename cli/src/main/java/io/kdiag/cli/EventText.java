package io.kdiag.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import io.kdiag.api.ApiSerialization;
import io.kdiag.model.ApprovalDecisions;
import io.kdiag.model.ShadowVerdict;
import io.kdiag.schemas.avro.AbnormalFailed;
import io.kdiag.schemas.avro.Accepted;
import io.kdiag.schemas.avro.ApprovalDecided;
import io.kdiag.schemas.avro.ApprovalRequested;
import io.kdiag.schemas.avro.CommandFinished;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.ProcessorStarted;
import io.kdiag.schemas.avro.ProfilerExpired;
import io.kdiag.schemas.avro.ProfilerFinished;
import io.kdiag.schemas.avro.ShadowFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.StageOutcome;
import io.kdiag.schemas.avro.StageStarted;
import io.kdiag.schemas.avro.UnknownPayload;

/** Diagnosis events as a person reads them: one line each for {@code watch}, a table for {@code history}. */
final class EventText {
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");
    private static final DateTimeFormatter CLOCK_MILLIS = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
    /** Wide enough for the longest stage name, so watch lines line up. */
    private static final int STAGE_WIDTH = Stage.InformationCollection.name().length();
    private static final String NO_STAGE = "-";
    /** Longest plan a shadow recoverer's line shows; the event keeps it whole. */
    private static final int SHADOW_PLAN_CHARS = 200;

    private EventText() {
    }

    /**
     * One event described.
     *
     * @param seq the event's seq
     * @param time when it happened
     * @param stage the stage it belongs to, or {@code -}
     * @param step the processor, command, profiler, {@code stage} or {@code abnormal}
     * @param what what happened
     * @param took how long the step took, when the event tells
     */
    record Line(long seq, Instant time, String stage, String step, String what, Duration took) {
    }

    /** Describes the events of one abnormal in order, remembering when each stage started to tell how long it took. */
    static final class Describer {
        private final Map<Stage, Instant> stageStarts = new EnumMap<>(Stage.class);

        Line describe(DiagnosisEvent event) {
            Object payload = event.getPayload();
            long seq = event.getSeq();
            Instant time = event.getTime();
            if (payload instanceof Accepted a) {
                return new Line(seq, time, NO_STAGE, "abnormal", "accepted on node " + event.getNodeName() + " (origin " + a.getOrigin() + ")", null);
            }
            if (payload instanceof StageStarted s) {
                stageStarts.put(s.getStage(), time);
                return new Line(seq, time, s.getStage().name(), "stage", "started", null);
            }
            if (payload instanceof ProcessorStarted p) {
                return new Line(seq, time, p.getStage().name(), name(p.getProcessor()), "started", null);
            }
            if (payload instanceof ProcessorFinished p) {
                String what = p.getSucceeded() ? "succeeded" : "failed: " + failure(p.getReason(), p.getMessage());
                return new Line(seq, time, p.getStage().name(), name(p.getProcessor()), what, Duration.ofMillis(p.getDurationMillis()));
            }
            if (payload instanceof CommandFinished c) {
                String what = c.getError() == null ? "ran" : "failed: " + c.getError();
                return new Line(seq, time, c.getStage().name(), "command " + String.join(" ", c.getCommand()), what,
                        Duration.ofMillis(c.getDurationMillis()));
            }
            if (payload instanceof ProfilerFinished p) {
                String what = p.getError() == null ? "ready at " + p.getEndpoint() : "failed: " + p.getError();
                return new Line(seq, time, p.getStage().name(), "profiler " + p.getName(), what, null);
            }
            if (payload instanceof ProfilerExpired p) {
                return new Line(seq, time, NO_STAGE, "profiler " + p.getName(), "expired", null);
            }
            if (payload instanceof StageFinished f) {
                Instant started = stageStarts.get(f.getStage());
                StringBuilder what = new StringBuilder(f.getOutcome().name().toLowerCase(java.util.Locale.ROOT));
                if (f.getProcessor() != null) {
                    what.append(" by ").append(name(f.getProcessor()));
                }
                if (f.getOutcome() == StageOutcome.Failed) {
                    what.append(": ").append(failure(f.getReason(), f.getMessage()));
                } else if (f.getMessage() != null) {
                    what.append(": ").append(f.getMessage());
                }
                return new Line(seq, time, f.getStage().name(), "stage", what.toString(),
                        started == null ? null : Duration.between(started, time));
            }
            if (payload instanceof ApprovalRequested a) {
                return new Line(seq, time, Stage.Recovery.name(), name(a.getProcessor()), "waits for approval (required by "
                        + a.getRequiredBy() + ") until " + a.getExpiresAt().truncatedTo(ChronoUnit.SECONDS) + "; would run " + a.getPlan(), null);
            }
            if (payload instanceof ApprovalDecided d) {
                String what = d.getApproved() ? "approved by " + d.getDecidedBy()
                        : ApprovalDecisions.EXPIRED.equals(d.getReason()) ? "not approved in time (Expired)" : "denied by " + d.getDecidedBy();
                if (!ApprovalDecisions.EXPIRED.equals(d.getReason()) && d.getReason() != null) {
                    what += ": " + d.getReason();
                }
                return new Line(seq, time, Stage.Recovery.name(), name(d.getProcessor()), what, null);
            }
            if (payload instanceof AbnormalFailed f) {
                return new Line(seq, time, NO_STAGE, "abnormal", "failed: " + failure(f.getReason(), f.getMessage()), null);
            }
            if (payload instanceof ShadowFinished s) {
                return new Line(seq, time, s.getStage().name(), "shadow " + name(s.getProcessor()), shadow(s),
                        Duration.ofMillis(s.getDurationMillis()));
            }
            if (payload instanceof UnknownPayload u) {
                return new Line(seq, time, NO_STAGE, u.getType().substring(u.getType().lastIndexOf('.') + 1),
                        "(written by a later version) " + u.getJson(), null);
            }
            return new Line(seq, time, NO_STAGE, payload.getClass().getSimpleName(), "", null);
        }
    }

    /** {@code 12:01:02  InformationCollection  process-collector  succeeded (120 ms)}. */
    static String watchLine(Line line, ZoneId zone) {
        String stage = String.format("%-" + STAGE_WIDTH + "s", line.stage());
        return CLOCK.withZone(zone).format(line.time()) + "  " + stage + "  " + line.step() + "  " + line.what()
                + (line.took() == null ? "" : " (" + duration(line.took()) + ")");
    }

    /** SEQ TIME STAGE STEP WHAT TOOK, one row per event, and the time from the first event to the last. */
    static String historyTable(List<DiagnosisEvent> events, ZoneId zone) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"SEQ", "TIME", "STAGE", "STEP", "TOOK", "WHAT"});
        Describer describer = new Describer();
        for (DiagnosisEvent event : events) {
            Line line = describer.describe(event);
            rows.add(new String[] {String.valueOf(line.seq()), CLOCK_MILLIS.withZone(zone).format(line.time()), line.stage(),
                    line.step(), line.took() == null ? "" : duration(line.took()), line.what()});
        }
        String table = StatusPrinter.columns(rows);
        if (events.isEmpty()) {
            return table;
        }
        Duration total = Duration.between(events.get(0).getTime(), events.get(events.size() - 1).getTime());
        return table + "\n" + events.size() + " events over " + duration(total) + "\n";
    }

    /** {@code 120 ms}, {@code 4.2 s}, {@code 3m05s}, {@code 2h10m}. */
    static String duration(Duration d) {
        long ms = Math.max(0, d.toMillis());
        if (ms < 1000) {
            return ms + " ms";
        }
        if (ms < 60_000) {
            return String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0);
        }
        long s = ms / 1000;
        if (s < 3600) {
            return String.format("%dm%02ds", s / 60, s % 60);
        }
        return String.format("%dh%02dm", s / 3600, s % 3600 / 60);
    }

    private static String name(NamespacedName processor) {
        return processor.getName();
    }

    /**
     * A shadow's verdict, marked as changing nothing, with what it would have set (the keys) or done (the plan):
     * {@code (shadow, no effect) would act: {"signals":[{"pid":4711,"signal":15}]}}.
     */
    private static String shadow(ShadowFinished s) {
        ShadowVerdict verdict = ShadowVerdict.of(s);
        String detail = switch (verdict) {
            case IDENTIFIED -> s.getContextUpdates() == null ? "" : ": " + String.join(", ", ApiSerialization.jsonObject(s.getContextUpdates()).keySet());
            case WOULD_ACT -> s.getPlan() == null ? "" : ": " + StatusDiff.cell(s.getPlan(), SHADOW_PLAN_CHARS);
            default -> ": " + failure(s.getReason(), s.getMessage());
        };
        return "(shadow, no effect) " + verdict.text() + detail;
    }

    private static String failure(String reason, String message) {
        if (reason == null) {
            return message == null ? "no reason given" : message;
        }
        return message == null ? reason : reason + ": " + message;
    }
}
