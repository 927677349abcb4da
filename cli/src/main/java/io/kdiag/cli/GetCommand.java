package io.kdiag.cli;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    private static final String JSONPATH = "jsonpath=";
    private static final String CUSTOM_COLUMNS = "custom-columns=";

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

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", description = "wide, yaml, json (one Abnormal with NAME, "
            + "else a List, as kubectl prints them), jsonpath=TEMPLATE (e.g. '{.items[*].metadata.name}'), or "
            + "custom-columns=HEADER:PATH,... (e.g. NAME:.metadata.name,PHASE:.status.phase).")
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
        String format = output == null ? "" : output;
        if (!List.of("", "wide", "yaml", "json").contains(format) && !format.startsWith(JSONPATH) && !format.startsWith(CUSTOM_COLUMNS)) {
            err.println("error: unable to match a printer suitable for the output format \"" + format
                    + "\", allowed formats are: custom-columns,json,jsonpath,wide,yaml");
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
            if (client.unreadableRecords() > 0) {
                // the log, not the terminal, gets each one; a table that left something out must say so
                err.printf("warning: %d records of %s could not be read and were left out (each is in kdiag.log with its "
                        + "partition and offset)%n", client.unreadableRecords(), client.topics().abnormalStatus().name());
            }
            if (name != null && statuses.isEmpty()) {
                return notFound(client, out, err);
            }
        }
        if (format.isEmpty() || format.equals("wide")) {
            if (statuses.isEmpty()) {
                err.println(namespace == null ? "No resources found" : "No resources found in " + namespace + " namespace.");
            } else {
                out.print(StatusPrinter.table(statuses, format.equals("wide"), Instant.now()));
            }
            return 0;
        }
        List<AbnormalStatus> shown = name == null ? statuses
                : List.of(statuses.stream().max(Comparator.comparing(AbnormalStatus::getUpdatedAt)).orElseThrow());
        List<Map<String, Object>> items = shown.stream()
                .map(s -> ApiSerialization.jsonObject(ApiSerialization.json(StatusProjection.abnormal(s)))).toList();
        try {
            out.print(render(format, items));
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 1;
        }
        return 0;
    }

    /**
     * The objects in a kubectl format: with a NAME, the one object (its newest run); otherwise a {@code List} of them
     * all, which is what kubectl prints (and what {@code jq .items} expects). Custom columns take each object, as kubectl does.
     */
    private String render(String format, List<Map<String, Object>> items) {
        if (format.startsWith(CUSTOM_COLUMNS)) {
            return customColumns(format.substring(CUSTOM_COLUMNS.length()), items);
        }
        Object root;
        if (name != null) {
            root = items.get(0);
        } else {
            Map<String, Object> list = new LinkedHashMap<>();
            list.put("apiVersion", "v1");
            list.put("kind", "List");
            list.put("items", items);
            list.put("metadata", Map.of("resourceVersion", ""));
            root = list;
        }
        return switch (format) {
            case "yaml" -> ApiSerialization.yaml(root);
            case "json" -> ApiSerialization.json(root) + "\n";
            default -> JsonPath.render(root, format.substring(JSONPATH.length()));
        };
    }

    /** {@code HEADER:PATH,...}: a column per pair, a row per object; several values joined by commas, none as {@code <none>}. */
    private static String customColumns(String spec, List<Map<String, Object>> items) {
        List<String[]> columns = new ArrayList<>();
        for (String column : spec.split(",")) {
            int colon = column.indexOf(':');
            if (colon <= 0 || colon == column.length() - 1) {
                throw new IllegalArgumentException("custom-columns takes HEADER:PATH pairs separated by commas, not \"" + column + "\"");
            }
            columns.add(new String[] {column.substring(0, colon), column.substring(colon + 1)});
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(columns.stream().map(c -> c[0]).toArray(String[]::new));
        for (Map<String, Object> item : items) {
            rows.add(columns.stream().map(c -> {
                List<Object> values = JsonPath.select(item, c[1].startsWith(".") || c[1].startsWith("[") ? c[1] : "." + c[1]);
                return values.isEmpty() ? "<none>" : String.join(",", values.stream().map(JsonPath::text).toList());
            }).toArray(String[]::new));
        }
        return StatusPrinter.columns(rows);
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
