package io.kdiag.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import io.kdiag.api.ApiSerialization;
import io.kdiag.client.EventLog;
import io.kdiag.client.KdiagClient;
import io.kdiag.client.ShadowReport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code kdiag shadow report NAME}: how a processor in shadow mode compares with the real chain (docs/recovery-control.md). */
@Command(name = "shadow", mixinStandardHelpOptions = true,
        description = "Diagnosers and recoverers the agents' policy runs in shadow mode, beside the real chain and without effect.",
        subcommands = ShadowCommand.Report.class)
final class ShadowCommand {
    @ParentCommand
    KdiagCommand kdiag;

    /** {@code kdiag shadow report NAME}. */
    @Command(name = "report", mixinStandardHelpOptions = true,
            description = {"Compare a shadow's verdicts with the real chain's on the same abnormals, read from the "
                    + "diagnosis-events topic: a shadow diagnoser agrees where it identified the fault exactly where a real "
                    + "diagnoser did; a shadow recoverer where it would have acted exactly where a real recoverer acted "
                    + "(a skipped stage identified nothing and did nothing). Runs without a verdict (refused, failed, timed "
                    + "out, lacking an input) are counted apart. Lists the newest disagreements with what the shadow would "
                    + "have set or done."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:printed (also when the shadow never ran)", "1:Kafka cannot be reached, or an unknown output format",
                "2:invalid usage"})
    static final class Report implements Callable<Integer> {
        private static final int CELL = 80;

        @ParentCommand
        ShadowCommand shadow;

        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", description = "The shadow: NAMESPACE/NAME as the policy names it, or its name alone.")
        String name;

        @Option(names = "--since", paramLabel = "DURATION", defaultValue = "24h", converter = ReplayCommand.DurationConverter.class,
                description = "Abnormals accepted within this long (24h, 90m, 7d, PT2H; default: ${DEFAULT-VALUE}).")
        Duration since;

        @Option(names = "--examples", paramLabel = "N", defaultValue = "5",
                description = "Disagreements to list, newest first (default: ${DEFAULT-VALUE}).")
        int examples;

        @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", description = "json: the report as one JSON object.")
        String output;

        @Override
        public Integer call() {
            if (output != null && !output.equals("json")) {
                spec.commandLine().getErr().println("error: unable to match a printer suitable for the output format \"" + output
                        + "\", allowed formats are: json");
                return 1;
            }
            if (examples < 0) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--examples must not be negative");
            }
            Instant from = Instant.now().minus(since).truncatedTo(ChronoUnit.SECONDS);
            ShadowReport report;
            try (KdiagClient client = shadow.kdiag.client()) {
                report = ShadowReport.of(EventLog.read(client), name, from, examples);
            }
            PrintWriter out = spec.commandLine().getOut();
            out.print(output != null ? ApiSerialization.json(report.toMap()) + "\n" : text(report));
            out.flush();
            return 0;
        }

        /** The counts, then the disagreements, in kubectl's columns. */
        static String text(ShadowReport report) {
            if (report.runs() == 0) {
                return "No runs of shadow " + report.processor() + " on abnormals accepted since " + report.since()
                        + " (is it under shadows in the agents' policy, and granted?)\n";
            }
            StringBuilder text = new StringBuilder();
            text.append("Shadow ").append(report.processor()).append(" on abnormals accepted since ").append(report.since()).append(":\n\n");
            List<String[]> counts = new ArrayList<>();
            counts.add(new String[] {"RUNS", "AGREED", "DISAGREED", "IDENTIFIED", "WOULD-ACT", "NO-VERDICT"});
            counts.add(new String[] {String.valueOf(report.runs()), String.valueOf(report.agreed()), String.valueOf(report.disagreed()),
                String.valueOf(report.identified()), String.valueOf(report.wouldHaveActed()), String.valueOf(report.noVerdict())});
            text.append(StatusPrinter.columns(counts));
            if (!report.disagreements().isEmpty()) {
                text.append("\nDisagreements, newest first:\n");
                List<String[]> rows = new ArrayList<>();
                rows.add(new String[] {"NAME", "UID", "STAGE", "SHADOW", "REAL"});
                for (ShadowReport.Comparison c : report.disagreements()) {
                    rows.add(new String[] {c.namespace() + "/" + c.name(), c.uid().length() > 8 ? c.uid().substring(0, 8) : c.uid(),
                        c.stage().name(), StatusDiff.cell(c.shadowDetail(), CELL), c.realDetail()});
                }
                text.append(StatusPrinter.columns(rows));
            }
            return text.toString();
        }
    }
}
