package io.kdiag.cli;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;

import io.kdiag.api.ApiSerialization;
import io.kdiag.client.KdiagClient;
import io.kdiag.model.StatusProjection;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code kdiag get abnormals} / {@code kdiag get abnormal NAME}: statuses from the status topic. */
@Command(name = "get", mixinStandardHelpOptions = true,
        description = "List abnormals, or show one, from the status topic (the system of record).")
final class GetCommand implements Callable<Integer> {
    @ParentCommand
    KdiagCommand kdiag;

    @Parameters(index = "0", paramLabel = "KIND", description = "abnormals (or abnormal, abn).")
    String kind;

    @Parameters(index = "1", arity = "0..1", paramLabel = "NAME", description = "Show only this abnormal.")
    String name;

    @Option(names = {"-n", "--namespace"}, description = "Only this namespace.")
    String namespace;

    @Option(names = {"-A", "--all-namespaces"}, description = "Every namespace (the default when -n is not given).")
    boolean allNamespaces;

    @Option(names = {"-o", "--output"}, description = "yaml, json or wide.")
    String output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!List.of("abnormals", "abnormal", "abn").contains(kind)) {
            err.println("error: the server doesn't have a resource type \"" + kind + "\" (try: abnormals)");
            return 1;
        }
        List<AbnormalStatus> statuses;
        try (KdiagClient client = kdiag.client()) {
            statuses = client.statuses().values().stream()
                    .filter(s -> namespace == null || namespace.equals(s.getNamespace()))
                    .filter(s -> name == null || name.equals(s.getName()))
                    .sorted(Comparator.comparing(AbnormalStatus::getNamespace).thenComparing(AbnormalStatus::getName)
                            .thenComparing(AbnormalStatus::getUpdatedAt))
                    .toList();
            if (name != null && statuses.isEmpty()) {
                return notFound(client, out, err);
            }
        }
        if (statuses.isEmpty()) {
            err.println(namespace == null ? "No resources found" : "No resources found in " + namespace + " namespace.");
            return 0;
        }
        if ("yaml".equals(output) || "json".equals(output)) {
            for (AbnormalStatus s : statuses) {
                var abnormal = StatusProjection.abnormal(s);
                out.print("yaml".equals(output) ? ApiSerialization.yaml(abnormal) : ApiSerialization.json(abnormal) + "\n");
            }
            return 0;
        }
        out.print(StatusPrinter.table(statuses, "wide".equals(output), Instant.now()));
        return 0;
    }

    /**
     * No status: either nothing of that name was ever forwarded (NotFound), or it was and no agent has accepted it yet —
     * then say so, and which node's agent it waits for, as kubectl shows a Pending pod.
     */
    private int notFound(KdiagClient client, PrintWriter out, PrintWriter err) {
        String ns = namespace == null ? "default" : namespace;
        List<AbnormalRequest> forwarded = client.forwarded(ns, name);
        if (forwarded.isEmpty()) {
            err.printf("Error from server (NotFound): abnormals \"%s\" not found%n", name);
            return 1;
        }
        AbnormalRequest last = forwarded.get(forwarded.size() - 1);
        out.print(StatusPrinter.columns(List.of(new String[] {"NAMESPACE", "NAME", "PHASE", "NODE", "FORWARDED"},
                new String[] {ns, name, "Pending", last.getNodeName(), StatusProjection.time(last.getRequestedAt())})));
        out.flush(); // the table first, then the hint, as a terminal shows them
        err.printf("abnormal %s/%s was forwarded to node %s, but no agent of that node has accepted it yet; is one running "
                + "for node %s?%n", ns, name, last.getNodeName(), last.getNodeName());
        return 0;
    }
}
