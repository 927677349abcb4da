package io.kdiag.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.CommandExecutorResult;

/**
 * Keeps a snapshot small enough to be a Kafka record, a changelog entry and a CR status. The context grows with every
 * processor and the command results with every command, so a long abnormal could outgrow Kafka's 1 MiB; past
 * {@link #MAX_STATUS_BYTES} the largest context values are replaced by a marker, then the largest command outputs, then
 * the oldest command and profiler results are left out, and last the spec and labels. Every value left out is whole in
 * the event that carried it ({@code kdiag history}, the diagnosis-events topic), and the marker says how large it was.
 * A pure function of the snapshot, so the status is still a pure function of the events and replay agrees with it.
 */
final class StatusBudget {
    /** Largest encoded snapshot: half of Kafka's default record limit, the rest is the fold state's buffer and history. */
    static final int MAX_STATUS_BYTES = 512 * 1024;
    /** Where a left-out value still is, in the marker. */
    static final String WHOLE_IN_ITS_EVENT = "the status keeps at most " + MAX_STATUS_BYTES
            + " bytes; the whole value is in the event that carried it (kdiag history, the diagnosis-events topic)";

    private StatusBudget() {
    }

    /** The snapshot, or a copy of it with the largest values left out when it encodes to more than {@link #MAX_STATUS_BYTES}. */
    static AbnormalStatus fit(AbnormalStatus status) {
        // a character is at most 3 UTF-8 bytes (a surrogate pair 4 for 2): below a third of the budget it fits for sure
        if (textChars(status) <= MAX_STATUS_BYTES / 3 || encodedBytes(status) <= MAX_STATUS_BYTES) {
            return status;
        }
        AbnormalStatus fitted = AbnormalStatus.newBuilder(status).build();
        Map<String, String> context = TopLevelJson.members(fitted.getContext());
        for (String key : largestFirst(context)) {
            context.put(key, marker(context.get(key)));
            fitted.setContext(TopLevelJson.write(context));
            if (encodedBytes(fitted) <= MAX_STATUS_BYTES) {
                return fitted;
            }
        }
        List<CommandExecutorResult> commands = fitted.getCommandExecutors();
        List<CommandExecutorResult> byOutput = commands.stream()
                .sorted(Comparator.comparingInt((CommandExecutorResult c) -> c.getStdout().length() + c.getStderr().length()).reversed())
                .toList();
        for (CommandExecutorResult command : byOutput) {
            command.setStdout(cut(command.getStdout()));
            command.setStderr(cut(command.getStderr()));
            if (encodedBytes(fitted) <= MAX_STATUS_BYTES) {
                return fitted;
            }
        }
        while (!commands.isEmpty() || !fitted.getProfilers().isEmpty()) {
            (commands.isEmpty() ? fitted.getProfilers() : commands).remove(0);
            if (encodedBytes(fitted) <= MAX_STATUS_BYTES) {
                return fitted;
            }
        }
        fitted.setSpec(marker(fitted.getSpec()));
        fitted.setLabels(new LinkedHashMap<>());
        return fitted;
    }

    private static List<String> largestFirst(Map<String, String> context) {
        return context.keySet().stream().sorted(Comparator.comparingInt((String key) -> context.get(key).length()).reversed()).toList();
    }

    /** A JSON object standing for a JSON value left out. */
    static String marker(String json) {
        return "{\"truncated\":true,\"bytes\":" + json.getBytes(StandardCharsets.UTF_8).length + ",\"note\":\"" + WHOLE_IN_ITS_EVENT + "\"}";
    }

    private static String cut(String output) {
        return output.isEmpty() ? output : "[" + output.getBytes(StandardCharsets.UTF_8).length + " bytes left out: " + WHOLE_IN_ITS_EVENT + "]";
    }

    /** The characters of every text of the snapshot: a cheap bound of its size. */
    static long textChars(AbnormalStatus status) {
        long chars = status.getSpec().length() + status.getContext().length();
        for (CommandExecutorResult command : status.getCommandExecutors()) {
            chars += command.getStdout().length() + command.getStderr().length() + length(command.getError()) + 16;
            for (String arg : command.getCommand()) {
                chars += arg.length();
            }
        }
        for (var profiler : status.getProfilers()) {
            chars += profiler.getName().length() + length(profiler.getEndpoint()) + length(profiler.getError()) + 16;
        }
        for (var condition : status.getConditions()) {
            chars += length(condition.getMessage()) + length(condition.getReason()) + 32;
        }
        for (var label : status.getLabels().entrySet()) {
            chars += label.getKey().length() + label.getValue().length();
        }
        return chars + length(status.getMessage()) + length(status.getReason()) + status.getUid().length() + status.getName().length()
                + status.getNamespace().length() + status.getNodeName().length() + 64;
    }

    private static int length(String text) {
        return text == null ? 0 : text.length();
    }

    private static int encodedBytes(AbnormalStatus status) {
        try {
            return status.toByteBuffer().remaining();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in memory: cannot happen
        }
    }
}
