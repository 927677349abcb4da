package io.kdiag.model;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.StageStarted;
import io.kdiag.schemas.avro.UnknownPayload;
import org.apache.kafka.common.errors.SerializationException;

/**
 * The one-line form of an event that the history endpoint lists. Output of processors (context) is not repeated
 * here; the snapshot has it. Every field but {@code seq}, {@code time} and {@code type} is null where the event has
 * no such thing.
 *
 * @param type the payload's record name; for a payload of a later version ({@code UnknownPayload}), the writer's
 *     record name, with the payload as JSON in {@code message}
 * @param processor {@code namespace/name}
 * @param outcome {@code Succeeded}, {@code Failed} or {@code Skipped}; {@code Approved} or {@code Denied} for a decision
 */
public record EventSummary(long seq, Instant time, String type, String origin, String stage, String processor, String outcome,
        String reason, String message, Long durationMillis, List<String> command, String profiler, String endpoint) {

    private static final byte VERSION = 1;
    private static final String SUCCEEDED = "Succeeded";
    private static final String FAILED = "Failed";
    private static final DateTimeFormatter RFC3339_MILLIS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    /** Longest text kept in a summary field; the event itself keeps the whole of it. */
    static final int MAX_FIELD_CHARS = 1024;
    /** Most arguments of a command kept in a summary. */
    static final int MAX_COMMAND_ARGS = 32;

    /** The summary of an event, each text cut to {@link #MAX_FIELD_CHARS} so that a history of many stays small. */
    static EventSummary of(DiagnosisEvent event) {
        Object payload = event.getPayload();
        String type = payload instanceof UnknownPayload unknown ? simpleName(unknown.getType()) : payload.getClass().getSimpleName();
        Builder b = new Builder(event.getSeq(), event.getTime(), type);
        if (payload instanceof UnknownPayload unknown) {
            b.message = unknown.getJson();
        } else if (payload instanceof Accepted accepted) {
            b.origin = accepted.getOrigin().name();
        } else if (payload instanceof StageStarted started) {
            b.stage = started.getStage().name();
        } else if (payload instanceof ProcessorStarted started) {
            b.stage = started.getStage().name();
            b.processor = name(started.getProcessor());
        } else if (payload instanceof ProcessorFinished finished) {
            b.stage = finished.getStage().name();
            b.processor = name(finished.getProcessor());
            b.outcome = finished.getSucceeded() ? SUCCEEDED : FAILED;
            b.reason = finished.getReason();
            b.message = finished.getMessage();
            b.durationMillis = finished.getDurationMillis();
        } else if (payload instanceof CommandFinished command) {
            b.stage = command.getStage().name();
            b.command = command.getCommand().stream().limit(MAX_COMMAND_ARGS).map(EventSummary::cut).toList();
            b.outcome = command.getError() == null ? SUCCEEDED : FAILED;
            b.message = command.getError();
            b.durationMillis = command.getDurationMillis();
        } else if (payload instanceof ProfilerFinished profiler) {
            b.stage = profiler.getStage().name();
            b.profiler = profiler.getName();
            b.outcome = profiler.getError() == null ? SUCCEEDED : FAILED;
            b.endpoint = profiler.getEndpoint();
            b.message = profiler.getError();
        } else if (payload instanceof ProfilerExpired expired) {
            b.profiler = expired.getName();
        } else if (payload instanceof StageFinished stage) {
            b.stage = stage.getStage().name();
            b.processor = stage.getProcessor() == null ? null : name(stage.getProcessor());
            b.outcome = stage.getOutcome().name();
            b.reason = stage.getReason();
            b.message = stage.getMessage();
        } else if (payload instanceof ApprovalRequested asked) {
            b.stage = Stage.Recovery.name();
            b.processor = name(asked.getProcessor());
            b.reason = "WaitingForApproval";
            b.message = "required by " + asked.getRequiredBy() + "; expires at " + rfc3339Millis(asked.getExpiresAt());
        } else if (payload instanceof ApprovalDecided decided) {
            b.stage = Stage.Recovery.name();
            b.processor = name(decided.getProcessor());
            b.outcome = decided.getApproved() ? "Approved" : "Denied";
            b.reason = decided.getReason();
            b.message = "decided by " + decided.getDecidedBy();
        } else if (payload instanceof AbnormalFailed failed) {
            b.outcome = FAILED;
            b.reason = failed.getReason();
            b.message = failed.getMessage();
        }
        return b.cut().build();
    }

    private static String cut(String text) {
        return text == null || text.length() <= MAX_FIELD_CHARS ? text : text.substring(0, MAX_FIELD_CHARS) + "…";
    }

    /**
     * The endpoint's JSON form: {@code seq}, {@code time} (RFC 3339, milliseconds), {@code type} and, where present,
     * {@code stage}, {@code processor}, {@code outcome}, {@code reason}, {@code message}, {@code durationMillis},
     * {@code command}, {@code profiler}, {@code endpoint}, {@code origin}.
     */
    public Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("seq", seq);
        map.put("time", rfc3339Millis(time));
        map.put("type", type);
        put(map, "origin", origin);
        put(map, "stage", stage);
        put(map, "processor", processor);
        put(map, "outcome", outcome);
        put(map, "reason", reason);
        put(map, "message", message);
        put(map, "durationMillis", durationMillis);
        put(map, "command", command);
        put(map, "profiler", profiler);
        put(map, "endpoint", endpoint);
        return map;
    }

    static String rfc3339Millis(Instant instant) {
        return RFC3339_MILLIS.format(instant);
    }

    /**
     * The binary form kept in the fold state, written for every event folded in and so kept cheap: a version byte,
     * the seq, the time in epoch milliseconds, the type, a bit set of the fields present, then those fields in
     * declaration order.
     */
    byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeLong(seq);
            out.writeLong(time.toEpochMilli());
            writeString(out, type);
            Object[] optional = optional();
            int present = 0;
            for (int i = 0; i < optional.length; i++) {
                present |= optional[i] == null ? 0 : 1 << i;
            }
            out.writeShort(present);
            for (Object value : optional) {
                if (value instanceof String s) {
                    writeString(out, s);
                } else if (value instanceof Long l) {
                    out.writeLong(l);
                } else if (value instanceof List<?> list) {
                    out.writeInt(list.size());
                    for (Object item : list) {
                        writeString(out, (String) item);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in memory: cannot happen
        }
        return bytes.toByteArray();
    }

    private Object[] optional() {
        return new Object[] {origin, stage, processor, outcome, reason, message, durationMillis, command, profiler, endpoint};
    }

    /** Reads the {@link #encode() binary form}. */
    static EventSummary decode(byte[] data) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            byte version = in.readByte();
            if (version != VERSION) {
                throw new SerializationException("unknown event summary version " + version);
            }
            Builder b = new Builder(in.readLong(), Instant.ofEpochMilli(in.readLong()), readString(in));
            int present = in.readShort();
            b.origin = (present & 1) == 0 ? null : readString(in);
            b.stage = (present & 1 << 1) == 0 ? null : readString(in);
            b.processor = (present & 1 << 2) == 0 ? null : readString(in);
            b.outcome = (present & 1 << 3) == 0 ? null : readString(in);
            b.reason = (present & 1 << 4) == 0 ? null : readString(in);
            b.message = (present & 1 << 5) == 0 ? null : readString(in);
            b.durationMillis = (present & 1 << 6) == 0 ? null : in.readLong();
            if ((present & 1 << 7) != 0) {
                int n = in.readInt();
                List<String> command = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    command.add(readString(in));
                }
                b.command = List.copyOf(command);
            }
            b.profiler = (present & 1 << 8) == 0 ? null : readString(in);
            b.endpoint = (present & 1 << 9) == 0 ? null : readString(in);
            return b.build();
        } catch (IOException | RuntimeException e) {
            throw e instanceof SerializationException s ? s : new SerializationException("truncated event summary", e);
        }
    }

    /** Length-prefixed UTF-8: {@code writeUTF} would cap messages at 64 KiB. */
    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(utf8.length);
        out.write(utf8);
    }

    private static String readString(DataInputStream in) throws IOException {
        return new String(in.readNBytes(in.readInt()), StandardCharsets.UTF_8);
    }

    private static String simpleName(String fullName) {
        return fullName.substring(fullName.lastIndexOf('.') + 1);
    }

    private static String name(NamespacedName name) {
        return name.getNamespace() + "/" + name.getName();
    }

    private static void put(Map<String, Object> map, String key, Object value) {
        if (value != null) {
            map.put(key, value);
        }
    }

    /** Collects the optional fields, which the record's canonical constructor takes all at once. */
    private static final class Builder {
        private final long seq;
        private final Instant time;
        private final String type;
        private String origin;
        private String stage;
        private String processor;
        private String outcome;
        private String reason;
        private String message;
        private Long durationMillis;
        private List<String> command;
        private String profiler;
        private String endpoint;

        Builder(long seq, Instant time, String type) {
            this.seq = seq;
            this.time = time;
            this.type = type;
        }

        /** Every text field cut to {@link #MAX_FIELD_CHARS}. */
        Builder cut() {
            origin = EventSummary.cut(origin);
            stage = EventSummary.cut(stage);
            processor = EventSummary.cut(processor);
            outcome = EventSummary.cut(outcome);
            reason = EventSummary.cut(reason);
            message = EventSummary.cut(message);
            profiler = EventSummary.cut(profiler);
            endpoint = EventSummary.cut(endpoint);
            return this;
        }

        EventSummary build() {
            return new EventSummary(seq, time, type, origin, stage, processor, outcome, reason, message, durationMillis,
                    command, profiler, endpoint);
        }
    }
}
