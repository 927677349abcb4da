package io.kdiag.cli;

import java.io.File;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kdiag.api.Annotations;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.client.EventLog;
import io.kdiag.client.KdiagClient;
import io.kdiag.client.Rediagnosis;
import io.kdiag.common.config.ConfigKey;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kubernetes.AbnormalResources;
import io.kdiag.common.kubernetes.KubernetesConnection;
import io.kdiag.model.FoldState;
import io.kdiag.model.StatusProjection;
import io.kdiag.schemas.avro.AbnormalStatus;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code kdiag replay}: rebuild every status from the recorded events and compare, restore, or re-diagnose. */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Rebuild every abnormal's status from the diagnosis-events topic, folding the events exactly as the "
                + "status writer does, and compare it with the status topic and, when a cluster is configured, with the "
                + "Abnormal resources. Prints the differences (NAME, UID, SOURCE, FIELD, CURRENT, REPLAYED) and a summary.",
            "--restore writes the replayed statuses to the resources (status subresource), creating missing ones "
                + "annotated with " + Annotations.UID + " so they are not run again (e.g. after an etcd restore).",
            "--rediagnose DIAGNOSER runs a diagnoser again on every abnormal since --since whose information collection "
                + "succeeded, on the recorded context as it stood right after collection (large values read back from the "
                + "evidence topic; nothing of this machine), and lists where its verdict (identified or not, context keys "
                + "written) or its output differs from the recorded one. DIAGNOSER is a built-in's name, or NAMESPACE/NAME "
                + "of a registered Diagnoser, called over KubeDiag's HTTP protocol (found in the cluster of --kubeconfig). "
                + "Abnormals whose evidence lacks what it needs are counted, not listed. Recoverers are never run."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:no differences", "1:an error", "2:invalid usage", "3:differences were found (also with --restore)"})
final class ReplayCommand implements Callable<Integer> {
    private static final int CELL = 60;

    @ParentCommand
    KdiagCommand kdiag;

    @Spec
    CommandSpec spec;

    @Option(names = "--restore", description = "Write the replayed statuses to the Abnormal resources; create missing ones.")
    boolean restore;

    @Option(names = "--kubeconfig", paramLabel = "FILE",
            description = "Cluster to compare with (default: $KUBECONFIG, ~/.kube/config or in-cluster, when there is one).")
    File kubeconfig;

    @Option(names = "--rediagnose", paramLabel = "DIAGNOSER",
            description = "Diagnoser to run again: a built-in (process-match-diagnoser) or NAMESPACE/NAME of a registered one.")
    String rediagnose;

    @Option(names = "--since", paramLabel = "DURATION", defaultValue = "24h", converter = DurationConverter.class,
            description = "With --rediagnose: abnormals accepted within this long (24h, 90m, 7d, PT2H; default: ${DEFAULT-VALUE}).")
    Duration since;

    @Option(names = "--context-override", paramLabel = "KEY=JSON",
            description = "With --rediagnose: set spec.context KEY to this JSON value (a plain string if not JSON), "
                    + "e.g. processMatch={\"commandPattern\":\"^java \"}. Repeatable.")
    Map<String, String> contextOverrides = new LinkedHashMap<>();

    /** Abnormals that differ somewhere; decides the exit code. */
    private int differing;

    @Override
    public Integer call() throws Exception {
        CommandLine cmd = spec.commandLine();
        if (rediagnose != null && restore) {
            throw new CommandLine.ParameterException(cmd, "--restore and --rediagnose cannot be combined");
        }
        boolean rediagnoseOnly = cmd.getParseResult().hasMatchedOption("--since")
                || cmd.getParseResult().hasMatchedOption("--context-override");
        if (rediagnose == null && rediagnoseOnly) {
            throw new CommandLine.ParameterException(cmd, "--since and --context-override go with --rediagnose");
        }
        try (KdiagClient client = kdiag.client()) {
            return rediagnose != null ? rediagnose(client) : replay(client);
        }
    }

    private int replay(KdiagClient client) {
        PrintWriter out = spec.commandLine().getOut();
        EventLog log = EventLog.read(client);
        Map<String, AbnormalStatus> current = client.statuses();
        Map<String, AbnormalStatus> replayed = new LinkedHashMap<>();
        int incomplete = 0;
        for (Map.Entry<String, FoldState> e : log.folds().entrySet()) {
            if (e.getValue().current() == null) {
                incomplete++;
            } else {
                replayed.put(e.getKey(), e.getValue().current());
            }
        }

        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "UID", "SOURCE", "FIELD", "CURRENT", "REPLAYED"});
        int topicIdentical = 0;
        int topicDiffering = 0;
        for (Map.Entry<String, AbnormalStatus> e : replayed.entrySet()) {
            AbnormalStatus now = current.get(e.getKey());
            List<StatusDiff.FieldDiff> diffs = now == null
                    ? List.of(new StatusDiff.FieldDiff("(status)", "<missing>", e.getValue().getPhase().name()))
                    : StatusDiff.snapshots(now, e.getValue());
            if (diffs.isEmpty()) {
                topicIdentical++;
            } else {
                topicDiffering++;
                diffs.forEach(d -> rows.add(row(e.getValue(), "topic", d)));
            }
        }
        int withoutEvents = 0;
        for (AbnormalStatus now : current.values()) {
            if (!log.folds().containsKey(now.getUid())) {
                withoutEvents++;
                rows.add(row(now, "topic", new StatusDiff.FieldDiff("(events)", now.getPhase().name(), "<no events>")));
            }
        }
        differing = topicDiffering + withoutEvents;

        List<String> summary = new ArrayList<>();
        summary.add(String.format("Replayed %d abnormals from %d events%s.", replayed.size(), log.count(),
                incomplete == 0 ? ""
                        : String.format(" (%d more have no Accepted event: past retention or corrupt)", incomplete)));
        summary.add(String.format("Status topic: %d identical, %d differ, %d have no recorded events.",
                topicIdentical, topicDiffering, withoutEvents));

        try (KubernetesClient kube = kubernetes()) {
            if (kube != null) {
                compareResources(new AbnormalResources(kube), replayed, rows, summary);
            } else if (restore) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--restore needs a cluster: give --kubeconfig (or set $KUBECONFIG)");
            } else {
                summary.add("Resources: not compared (no cluster configured; --kubeconfig gives one).");
            }
        }

        if (rows.size() == 1) {
            out.println("No differences.");
        } else {
            out.print(StatusPrinter.columns(rows));
        }
        out.println();
        summary.forEach(out::println);
        return differing == 0 ? 0 : KdiagCommand.DIFFERENCES;
    }

    /** Compares (and with --restore, writes) the newest replayed run of each name with the resource of that name. */
    private void compareResources(AbnormalResources resources, Map<String, AbnormalStatus> replayed, List<String[]> rows,
            List<String> summary) {
        Map<String, Abnormal> byName = new HashMap<>();
        for (Abnormal abnormal : resources.list()) {
            byName.put(abnormal.getMetadata().getNamespace() + "/" + abnormal.getMetadata().getName(), abnormal);
        }
        Map<String, AbnormalStatus> newest = new LinkedHashMap<>();
        replayed.values().stream()
                .sorted(Comparator.comparing((AbnormalStatus s) -> s.getStartTime() == null ? Instant.EPOCH : s.getStartTime()))
                .forEach(s -> newest.put(s.getNamespace() + "/" + s.getName(), s));
        int same = 0;
        int differ = 0;
        int missing = 0;
        int otherRun = 0;
        int restored = 0;
        int created = 0;
        for (Map.Entry<String, AbnormalStatus> e : newest.entrySet()) {
            AbnormalStatus status = e.getValue();
            Abnormal resource = byName.get(e.getKey());
            if (resource == null) {
                missing++;
                rows.add(row(status, "cr", new StatusDiff.FieldDiff("(resource)", "<missing>", status.getPhase().name())));
                if (restore) {
                    if (resources.create(status.getNamespace(), status.getName(), status.getLabels(),
                            ApiSerialization.spec(status.getSpec()), status.getUid(), status.getOrigin())) {
                        created++;
                    }
                    if (restore(resources, status)) {
                        restored++;
                    }
                }
                continue;
            }
            if (!status.getUid().equals(Annotations.runUid(resource))) {
                // the resource belongs to another run of that name, one with no recorded events; leave it alone
                otherRun++;
                rows.add(row(status, "cr", new StatusDiff.FieldDiff("(uid)", Annotations.runUid(resource), status.getUid())));
                continue;
            }
            List<StatusDiff.FieldDiff> diffs = StatusDiff.resources(resource.getStatus(), StatusProjection.status(status));
            if (diffs.isEmpty()) {
                same++;
                continue;
            }
            differ++;
            diffs.forEach(d -> rows.add(row(status, "cr", d)));
            if (restore && restore(resources, status)) {
                restored++;
            }
        }
        differing += differ + missing + otherRun;
        summary.add(String.format("Resources: %d identical, %d differ, %d missing, %d belong to another run.", same, differ, missing, otherRun));
        if (restore) {
            summary.add(String.format("Restored %d resources (%d created).", restored, created));
        }
    }

    /** Writes a replayed status to its resource, as the status writer would; false if the write did not happen. */
    private boolean restore(AbnormalResources resources, AbnormalStatus status) {
        AbnormalResources.Write write = resources.writeStatus(status.getNamespace(), status.getName(), status.getUid(),
                StatusProjection.status(status), null);
        if (write.result() != AbnormalResources.Result.WRITTEN && write.result() != AbnormalResources.Result.UNCHANGED) {
            spec.commandLine().getErr().printf("warning: %s/%s not restored: %s%n", status.getNamespace(), status.getName(),
                    write.result());
            return false;
        }
        return true;
    }

    private int rediagnose(KdiagClient client) throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> overrides = new LinkedHashMap<>();
        contextOverrides.forEach((key, value) -> overrides.put(key, jsonOrString(value)));
        Instant from = Instant.now().minus(since).truncatedTo(ChronoUnit.SECONDS);
        Rediagnosis.Outcome outcome;
        String name;
        try (KubernetesClient kube = rediagnose.contains("/") ? registrations() : null;
             Rediagnosis rediagnosis = kube == null ? Rediagnosis.builtIn(client, rediagnose, overrides)
                     : Rediagnosis.registered(client, kube, rediagnose.substring(0, rediagnose.indexOf('/')),
                             rediagnose.substring(rediagnose.indexOf('/') + 1), overrides)) {
            name = rediagnosis.name();
            outcome = rediagnosis.run(EventLog.read(client), from);
        }
        if (outcome.differing().isEmpty()) {
            out.println("No verdict or output differs.");
        } else {
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"NAME", "UID", "RECORDED", "REDIAGNOSED", "CHANGED VALUES"});
            for (Rediagnosis.Finding f : outcome.differing()) {
                rows.add(new String[] {f.status().getNamespace() + "/" + f.status().getName(), shortUid(f.status().getUid()),
                        f.recorded().describe(), f.rediagnosed().describe(), String.valueOf(f.valueChanges().size())});
            }
            out.print(StatusPrinter.columns(rows));
            for (Rediagnosis.Finding f : outcome.differing()) {
                if (!f.valueChanges().isEmpty()) {
                    out.println();
                    out.println(f.status().getNamespace() + "/" + f.status().getName() + " (" + shortUid(f.status().getUid()) + "):");
                    f.valueChanges().forEach(change -> out.println("  " + change));
                }
            }
        }
        out.println();
        out.printf("Re-ran %s on %d of %d abnormals accepted since %s (the rest had no successful information collection): "
                        + "%d differ, %d lacked an input it needs in the recorded evidence%s.%n", name, outcome.rediagnosed(),
                outcome.considered(), StatusProjection.time(from), outcome.differing().size(), outcome.lackingInput(),
                outcome.unreadableEvidence() == 0 ? ""
                        : String.format(", %d were not run: their evidence could not be read back", outcome.unreadableEvidence()));
        return outcome.differing().isEmpty() ? 0 : KdiagCommand.DIFFERENCES;
    }

    /** The cluster whose Diagnoser registrations --rediagnose NAMESPACE/NAME names. */
    private KubernetesClient registrations() {
        KubernetesClient kube = kubernetes();
        if (kube == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--rediagnose " + rediagnose
                    + " names a registered Diagnoser, which needs a cluster: give --kubeconfig (or set $KUBECONFIG)");
        }
        return kube;
    }

    /** The cluster to compare with: --kubeconfig, else as {@code kdiag.kubernetes} decides (auto by default); null for none. */
    private KubernetesClient kubernetes() {
        if (kubeconfig != null) {
            return KubernetesConnection.fromKubeconfig(kubeconfig.toPath());
        }
        Map<String, String> environment = System.getenv();
        KubernetesConnection.Mode mode = ConfigSource.of(Map.of(), environment).get(KubernetesConnection.KUBERNETES);
        return KubernetesConnection.connect(mode, "kdiag replay").orElse(null);
    }

    /** A JSON value ({@code {...}}, {@code [...]}, {@code 15}, {@code "x"}, {@code true}), else the text itself. */
    static Object jsonOrString(String value) {
        try {
            return ApiSerialization.jsonObject("{\"v\":" + value + "}").get("v");
        } catch (RuntimeException e) {
            return value;
        }
    }

    private static String[] row(AbnormalStatus status, String source, StatusDiff.FieldDiff diff) {
        return new String[] {status.getNamespace() + "/" + status.getName(), shortUid(status.getUid()), source, diff.field(),
                StatusDiff.cell(diff.current(), CELL), StatusDiff.cell(diff.replayed(), CELL)};
    }

    private static String shortUid(String uid) {
        return uid.length() > 8 ? uid.substring(0, 8) : uid;
    }

    /** Durations as people write them: {@code 90s}, {@code 30m}, {@code 24h}, {@code 7d}, or ISO-8601 ({@code PT2H}). */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String text) {
            try {
                return ConfigKey.parseDuration(text);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("'" + text + "' is not a duration (e.g. 90s, 30m, 24h, 7d, PT2H)");
            }
        }
    }
}
