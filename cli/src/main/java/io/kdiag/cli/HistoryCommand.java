package io.kdiag.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

import io.kdiag.client.KdiagClient;
import io.kdiag.model.StatusProjection;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code kdiag history NAME}: every recorded step of an abnormal with its time and duration. */
@Command(name = "history", mixinStandardHelpOptions = true,
        description = "Print every recorded event of an abnormal (the newest with that name) as a table: seq, time, "
                + "stage, step, how long it took (processors and commands as measured by the agent, stages from "
                + "StageStarted to StageFinished) and what happened.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:printed", "1:not found, or an error", "2:invalid usage"})
final class HistoryCommand implements Callable<Integer> {
    @ParentCommand
    KdiagCommand kdiag;

    @Spec
    CommandSpec spec;

    @Mixin
    AbnormalName abnormal;

    /** Where times are shown; the machine's zone. */
    ZoneId zone = ZoneId.systemDefault();

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
            AbnormalStatus status = found.get();
            List<DiagnosisEvent> events = client.history(status.getUid(), status.getNodeName());
            out.printf("abnormal %s/%s (uid %s) on node %s, started %s, %s%n%n", abnormal.namespace, abnormal.name, status.getUid(),
                    status.getNodeName(), status.getStartTime() == null ? "<unknown>" : StatusProjection.time(status.getStartTime()),
                    status.getPhase());
            if (events.isEmpty()) {
                out.println("No events recorded (they may be past the topic's retention).");
                return 0;
            }
            out.print(EventText.historyTable(events, zone));
            return 0;
        }
    }
}
