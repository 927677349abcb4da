package io.kdiag.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import io.kdiag.api.ApiSerialization;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kdiag migrate check FILE...}: what becomes of KubeDiag objects applied to Kube Diagnoser. */
@Command(name = "migrate", mixinStandardHelpOptions = true, description = "Move from KubeDiag (v0.1.x) to Kube Diagnoser.",
        subcommands = MigrateCommand.Check.class)
final class MigrateCommand implements Callable<Integer> {
    /** Exit code when every object applies unchanged but some work differently. */
    static final int DIFFERENCES = KdiagCommand.DIFFERENCES;
    /** Exit code when some object does not apply unchanged: fields pruned, or refused. */
    static final int NOT_UNCHANGED = 4;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = {"Reads KubeDiag YAML (Abnormals, AbnormalSources, InformationCollector/Diagnoser/Recoverer "
                    + "registrations; several documents per file) and says, per object, whether it applies unchanged to Kube "
                    + "Diagnoser's CRDs and what then works differently than in KubeDiag v0.1.6. Asks no cluster."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:every object applies unchanged and works as in KubeDiag",
                "1:an error: a file cannot be read or is not YAML",
                "3:every object applies unchanged, some work differently (see their notes)",
                "4:some object does not apply unchanged: the API server would prune fields of it, or refuse it"})
    static final class Check implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "FILE", description = "YAML or JSON files of KubeDiag objects.")
        List<Path> files;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            List<MigrationCheck.Source> sources = new ArrayList<>();
            for (Path file : files) {
                List<Map<String, Object>> documents;
                try {
                    documents = ApiSerialization.documents(Files.readString(file));
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException(file + " is not YAML: " + e.getMessage(), e);
                }
                documents.forEach(d -> sources.add(new MigrationCheck.Source(file.toString(), d)));
            }
            List<MigrationCheck.Report> reports = MigrationCheck.check(sources);
            PrintWriter out = spec.commandLine().getOut();
            int unchanged = 0;
            int differ = 0;
            int changed = 0;
            for (MigrationCheck.Report report : reports) {
                MigrationCheck.Verdict verdict = report.verdict();
                out.println(report.resource() + (report.namespace() == null ? "" : " -n " + report.namespace()) + ": " + verdict.text());
                for (MigrationCheck.Finding finding : report.findings()) {
                    out.println("  " + (finding.path().isEmpty() ? "" : finding.path() + ": ") + finding.note());
                }
                switch (verdict) {
                    case UNCHANGED -> unchanged++;
                    case DIFFERS -> differ++;
                    case CHANGED -> changed++;
                    case SKIPPED -> {
                        // another API's object: nothing to say about it
                    }
                }
            }
            out.printf("%d objects: %d apply unchanged, %d apply but work differently, %d do not apply unchanged%n",
                    unchanged + differ + changed, unchanged, differ, changed);
            out.flush();
            return changed > 0 ? NOT_UNCHANGED : differ > 0 ? DIFFERENCES : 0;
        }
    }
}
