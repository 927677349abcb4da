package io.kdiag.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

import io.kdiag.api.ApiSerialization;
import io.kdiag.client.KdiagClient;
import io.kdiag.schemas.Evidence;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.ProcessorFinished;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code kdiag context NAME KEY}: one value of an abnormal's context, read back from the evidence topic if kept there. */
@Command(name = "context", mixinStandardHelpOptions = true,
        description = "Print one value of an abnormal's context (the newest with that name) as JSON; a key a later "
                + "processor removed (a diagnoser drops the collector output it consumed) as its history last recorded "
                + "it. A value too large for its event, held as a reference to the evidence topic, is read back from "
                + "there and checked against its SHA-256: it outlives the agent and the node that collected it.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:printed", "1:no such abnormal or key, the evidence cannot be read back, or an error", "2:invalid usage"})
final class ContextCommand implements Callable<Integer> {
    @ParentCommand
    KdiagCommand kdiag;

    @Spec
    CommandSpec spec;

    @Mixin
    AbnormalName abnormal;

    @Parameters(paramLabel = "KEY", description = "The context key, e.g. processInformation.")
    String key;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (KdiagClient client = kdiag.client()) {
            Optional<AbnormalStatus> found = abnormal.newest(client, Duration.ZERO);
            if (found.isEmpty()) {
                abnormal.reportNotFound(err);
                return 1;
            }
            Map<String, Object> context = ApiSerialization.jsonObject(found.get().getContext());
            if (!context.containsKey(key)) {
                Optional<ProcessorFinished> removed = lastWritten(client.history(found.get().getUid(), found.get().getNodeName()));
                if (removed.isEmpty()) {
                    err.printf("error: abnormal %s has no context key %s (it has: %s)%n", abnormal, key, String.join(", ", context.keySet()));
                    return 1;
                }
                // a diagnoser may drop the collector output it consumed: the history still has it
                err.printf("%s was removed from the context later; the value %s/%s wrote:%n", key,
                        removed.get().getProcessor().getNamespace(), removed.get().getProcessor().getName());
                context = ApiSerialization.jsonObject(removed.get().getContextUpdates());
            }
            Object value = context.get(key);
            Optional<Evidence.Reference> reference = Evidence.Reference.fromContextValue(value);
            if (reference.isEmpty()) {
                out.println(ApiSerialization.json(value));
                return 0;
            }
            try {
                out.println(new String(client.evidence(reference.get()), StandardCharsets.UTF_8));
                return 0;
            } catch (IOException e) {
                err.printf("error: context key %s of %s is kept as evidence %s, which cannot be read back: %s%n", key, abnormal,
                        reference.get().sha256(), e.getMessage());
                return 1;
            }
        }
    }

    /** The last successful processor run of these events that wrote the key. */
    private Optional<ProcessorFinished> lastWritten(List<DiagnosisEvent> events) {
        ProcessorFinished last = null;
        for (DiagnosisEvent event : events) {
            if (event.getPayload() instanceof ProcessorFinished p && p.getSucceeded() && p.getContextUpdates() != null
                    && ApiSerialization.jsonObject(p.getContextUpdates()).containsKey(key)) {
                last = p;
            }
        }
        return Optional.ofNullable(last);
    }
}
