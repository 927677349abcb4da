package io.kdiag.cli;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.kdiag.api.Annotations;
import io.kdiag.api.CrdSchemas;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.model.StageDefinition;
import io.kdiag.stageworkers.WorkerCatalog;
import io.kdiag.stageworkers.spi.StageWorker;

/**
 * What becomes of KubeDiag (v0.1.x) objects applied to Kube Diagnoser, object by object: whether the API server keeps
 * them unchanged (against our CRDs, {@link CrdSchemas}) and what then works differently than in KubeDiag v0.1.6 —
 * rules the bridge cannot use, processors that run in-process or need a registration, TLS that is verified now,
 * fields only trusted users may set, Abnormals that are not resumed. Reads only the objects given: it asks no cluster.
 */
final class MigrationCheck {
    /** The namespace of built-in processor references ({@code kdiag.builtin-namespace}'s default, KubeDiag's). */
    static final String BUILTIN_NAMESPACE = "kube-diagnoser";
    private static final Set<String> PROCESSOR_KINDS = Set.of("InformationCollector", "Diagnoser", "Recoverer");
    private static final Set<String> FINAL_PHASES = Set.of("Succeeded", "Failed");
    /** A Prometheus label name, which KubeDiag's Go types required of alert template keys. */
    private static final Pattern LABEL_NAME = Pattern.compile("^[a-zA-Z_][a-zA-Z0-9_]*$");
    private static final String ADMISSION = "ConfigMap kube-diagnoser/kdiag-admission";

    private MigrationCheck() {
    }

    /** What applying an object does. */
    enum Verdict {
        /** Kept as it is, and works as in KubeDiag v0.1.6. */
        UNCHANGED("applies unchanged"),
        /** Kept as it is, but works differently (the findings say how). */
        DIFFERS("applies, differs"),
        /** The API server would prune fields of it, or refuse it. */
        CHANGED("does not apply unchanged"),
        /** Not an object of {@code diagnosis.netease.com/v1}. */
        SKIPPED("skipped: not a diagnosis.netease.com/v1 object");

        private final String text;

        Verdict(String text) {
            this.text = text;
        }

        /** As printed. */
        String text() {
            return text;
        }
    }

    /**
     * One thing to know about an object.
     *
     * @param path the field it is about, or {@code ""} for the whole object
     * @param note what happens, and what to do
     * @param changes whether the object does not apply unchanged because of it (pruned, refused)
     */
    record Finding(String path, String note, boolean changes) {
    }

    /**
     * An object read from a file.
     *
     * @param file where it was read
     * @param object its JSON form
     */
    record Source(String file, Map<String, Object> object) {
    }

    /**
     * The findings on one object.
     *
     * @param file where it was read
     * @param kind its kind
     * @param namespace its namespace, or {@code null}
     * @param name its name
     * @param skipped whether it is no object of ours
     * @param findings what differs, in field order
     */
    record Report(String file, String kind, String namespace, String name, boolean skipped, List<Finding> findings) {
        Verdict verdict() {
            if (skipped) {
                return Verdict.SKIPPED;
            }
            if (findings.stream().anyMatch(Finding::changes)) {
                return Verdict.CHANGED;
            }
            return findings.isEmpty() ? Verdict.UNCHANGED : Verdict.DIFFERS;
        }

        /** {@code abnormal.diagnosis.netease.com/command-executor}, as kubectl names what it applied. */
        String resource() {
            return (kind == null ? "object" : kind.toLowerCase(Locale.ROOT) + "." + Abnormal.GROUP) + "/" + (name == null ? "(no name)" : name);
        }
    }

    /** Checks every object; the registrations among them resolve the processor references of the Abnormals and rules. */
    static List<Report> check(List<Source> sources) {
        List<Map<String, Object>> registrations = sources.stream().map(Source::object)
                .filter(o -> Abnormal.API_VERSION.equals(o.get("apiVersion")) && PROCESSOR_KINDS.contains(String.valueOf(o.get("kind"))))
                .toList();
        List<Report> reports = new ArrayList<>();
        for (Source source : sources) {
            reports.add(check(source, registrations));
        }
        return reports;
    }

    private static Report check(Source source, List<Map<String, Object>> registrations) {
        Map<String, Object> object = source.object();
        Map<String, Object> metadata = map(object.get("metadata"));
        String kind = object.get("kind") instanceof String k ? k : null;
        String namespace = string(metadata.get("namespace"));
        String name = string(metadata.get("name"));
        Optional<CrdSchemas.Admitted> admitted = Abnormal.API_VERSION.equals(object.get("apiVersion")) && kind != null
                ? CrdSchemas.admit(kind, object) : Optional.empty();
        if (admitted.isEmpty()) {
            return new Report(source.file(), kind, namespace, name, true, List.of());
        }
        List<Finding> findings = new ArrayList<>();
        if (name == null || name.isBlank()) {
            findings.add(new Finding("metadata.name", "refused by the API server: a name is required", true));
        }
        for (String pruned : admitted.get().pruned()) {
            findings.add(new Finding(pruned, "pruned by the API server: not a field of Kube Diagnoser's " + kind
                    + " (only KubeDiag v0.1.0 had it)", true));
        }
        for (String invalid : admitted.get().invalid()) {
            int colon = invalid.indexOf(": ");
            findings.add(new Finding(invalid.substring(0, colon), "refused by the API server: " + invalid.substring(colon + 2), true));
        }
        Map<String, Object> spec = map(object.get("spec"));
        switch (kind) {
            case "Abnormal" -> abnormal(spec, map(object.get("status")), registrations, findings);
            case "AbnormalSource" -> abnormalSource(spec, registrations, findings);
            default -> registration(kind, namespace, name, metadata, spec, findings);
        }
        return new Report(source.file(), kind, namespace, name, false, List.copyOf(findings));
    }

    private static void abnormal(Map<String, Object> spec, Map<String, Object> status, List<Map<String, Object>> registrations,
            List<Finding> findings) {
        if (spec.get("nodeName") == null && spec.get("podReference") == null) {
            findings.add(new Finding("spec", "refused by the API server: either nodeName or podReference is required", true));
        }
        templateParts(spec, registrations, findings);
        if (map(spec.get("context")).containsKey("signalRecovery")) {
            findings.add(new Finding("spec.context.signalRecovery", "only the users and groups of " + ADMISSION
                    + " may set it (the admission policy refuses it from anyone else), and never for pid 0 or 1", false));
        }
        Object phase = status.get("phase");
        if (phase instanceof String p && !p.isEmpty() && !FINAL_PHASES.contains(p)) {
            findings.add(new Finding("status.phase", "it was " + p + " when KubeDiag stopped; it is not resumed: recreate it", false));
        }
    }

    /** What an Abnormal and an AbnormalSource's template share: processors, commands, profilers. */
    private static void templateParts(Map<String, Object> spec, List<Map<String, Object>> registrations, List<Finding> findings) {
        for (StageDefinition stage : StageDefinition.values()) {
            String field = switch (stage) {
                case INFORMATION_COLLECTION -> "assignedInformationCollectors";
                case DIAGNOSIS -> "assignedDiagnosers";
                case RECOVERY -> "assignedRecoverers";
            };
            List<?> assigned = list(spec.get(field));
            for (int i = 0; i < assigned.size(); i++) {
                Map<String, Object> reference = map(assigned.get(i));
                processorReference(stage, "spec." + field + "[" + i + "]", string(reference.get("namespace")),
                        string(reference.get("name")), registrations, findings);
            }
            if (stage == StageDefinition.RECOVERY && !assigned.isEmpty()) {
                findings.add(new Finding("spec." + field, "only the users and groups of " + ADMISSION + " may set it", false));
            }
        }
        if (!list(spec.get("commandExecutors")).isEmpty()) {
            findings.add(new Finding("spec.commandExecutors", "commands run only if the agent's policy allows them (commandAllowlist, "
                    + "and a grant of commands to the abnormal's origin), none without one; only the users and groups of " + ADMISSION
                    + " may set them; stdout and stderr are kept apart, a non-zero exit is an error", false));
        }
        List<?> profilers = list(spec.get("profilers"));
        for (int i = 0; i < profilers.size(); i++) {
            Map<String, Object> java = map(map(profilers.get(i)).get("java"));
            Object type = java.get("type");
            if ("Arthas".equals(type) || "MemoryAnalyzer".equals(type)) {
                findings.add(new Finding("spec.profilers[" + i + "].java.type", type + " is not supported: the profiler fails; use CPU "
                        + "(a flame graph) or HeapHistogram with java.pid", false));
            }
        }
        if (!profilers.isEmpty()) {
            findings.add(new Finding("spec.profilers", "only the users and groups of " + ADMISSION
                    + " may set them, and the agent's policy must grant the profiler", false));
        }
    }

    private static void processorReference(StageDefinition stage, String path, String namespace, String name,
            List<Map<String, Object>> registrations, List<Finding> findings) {
        Optional<StageWorker> builtIn = BUILTIN_NAMESPACE.equals(namespace) ? WorkerCatalog.builtIns().find(name) : Optional.empty();
        if (builtIn.isPresent()) {
            if (builtIn.get().stage() != stage.stage()) {
                findings.add(new Finding(path, BUILTIN_NAMESPACE + "/" + name + " is a built-in " + StageDefinition.of(builtIn.get().stage())
                        .noun() + ", not a " + stage.noun() + ": it fails", false));
            }
            return;
        }
        boolean registered = registrations.stream().anyMatch(r -> stage.processorType().equals(r.get("kind"))
                && namespace != null && namespace.equals(map(r.get("metadata")).get("namespace")) && name != null
                && name.equals(map(r.get("metadata")).get("name")));
        if (!registered) {
            findings.add(new Finding(path, namespace + "/" + name + " is no built-in of Kube Diagnoser and no " + stage.processorType()
                    + " registered in the files checked: it must be registered in the cluster, else it fails with ProcessorNotFound", false));
        }
    }

    private static void abnormalSource(Map<String, Object> spec, List<Map<String, Object>> registrations, List<Finding> findings) {
        Map<String, Object> template = map(spec.get("sourceTemplate"));
        Object type = template.get("type");
        String path = "spec.sourceTemplate";
        if ("KubernetesEvent".equals(type) || "PrometheusAlert".equals(type)) {
            String templateField = "KubernetesEvent".equals(type) ? "kubernetesEventTemplate" : "prometheusAlertTemplate";
            if (template.get(templateField) == null) {
                findings.add(new Finding(path + "." + templateField, "missing: the bridge does not use the rule (KubeDiag ignored it "
                        + "as well)", false));
            }
            Map<String, Object> regexp = map(map(template.get(templateField)).get("regexp"));
            patterns(regexp, path + "." + templateField + ".regexp", findings);
            if ("PrometheusAlert".equals(type)) {
                alertTemplate(map(template.get(templateField)), regexp, path + "." + templateField, findings);
            } else {
                timeTemplates(regexp, path + "." + templateField + ".regexp", List.of("firstTimestamp", "lastTimestamp"), findings);
            }
        } else {
            findings.add(new Finding(path + ".type", "must be KubernetesEvent or PrometheusAlert: the bridge does not use the rule and marks "
                    + "it with annotation " + "kdiag.io/rule-error (KubeDiag ignored it silently)", false));
        }
        templateParts(spec, registrations, findings);
        Map<String, Object> context = map(spec.get("context"));
        if (context.containsKey("signalRecovery")) {
            findings.add(new Finding("spec.context.signalRecovery", "refused by the admission policy in an AbnormalSource: a rule would "
                    + "signal the same pids on every match", true));
        }
        if (!context.isEmpty()) {
            findings.add(new Finding("spec.context", "only the keys of sourceContextKeys in " + ADMISSION
                    + " are admitted from users it does not trust", false));
        }
    }

    private static void alertTemplate(Map<String, Object> alert, Map<String, Object> regexp, String path, List<Finding> findings) {
        Object label = alert.get("nodeNameReferenceLabel");
        if (!(label instanceof String l) || l.isBlank()) {
            findings.add(new Finding(path + ".nodeNameReferenceLabel", "empty: an alert it matches runs on the node of the pod its "
                    + "namespace and pod labels name, else it is dead-lettered (NodeNotFound); KubeDiag created no Abnormal for it either",
                    false));
        }
        for (String field : List.of("labels", "annotations")) {
            for (String key : map(regexp.get(field)).keySet()) {
                if (!LABEL_NAME.matcher(key).find()) {
                    findings.add(new Finding(path + ".regexp." + field + "." + key, "not a Prometheus label name: no alert has it, so the "
                            + "rule never matches (KubeDiag could not even read the rule)", false));
                }
            }
        }
        timeTemplates(regexp, path + ".regexp", List.of("startsAt", "endsAt"), findings);
    }

    private static void timeTemplates(Map<String, Object> regexp, String path, List<String> fields, List<Finding> findings) {
        for (String field : fields) {
            if (regexp.get(field) instanceof String pattern && !pattern.isEmpty()) {
                findings.add(new Finding(path + "." + field, "matched against the time as Go prints it (2021-03-01 08:10:12 +0000 UTC), "
                        + "in the zone of kdiag.template-time-zone (UTC unless set): set it to the zone KubeDiag ran in", false));
            }
        }
    }

    /** Every pattern of a template must be RE2, as in KubeDiag; an invalid one makes the bridge skip the rule. */
    private static void patterns(Object value, String path, List<Finding> findings) {
        if (value instanceof Map<?, ?> map) {
            map.forEach((key, child) -> patterns(child, path + "." + key, findings));
        } else if (value instanceof String pattern) {
            try {
                Pattern.compile(pattern);
            } catch (PatternSyntaxException e) {
                findings.add(new Finding(path, "not a valid RE2 regular expression (" + e.getMessage() + "): the bridge does not use the rule "
                        + "and marks it with annotation kdiag.io/rule-error (KubeDiag never matched it either)", false));
            }
        }
    }

    private static void registration(String kind, String namespace, String name, Map<String, Object> metadata, Map<String, Object> spec,
            List<Finding> findings) {
        Object ip = spec.get("externalIP");
        Object port = spec.get("externalPort");
        if ((ip == null) != (port == null)) {
            findings.add(new Finding("spec", "refused by the admission policy: externalIP and externalPort go together", true));
        }
        String scheme = spec.get("scheme") instanceof String s ? s.strip().toLowerCase(Locale.ROOT) : "http";
        boolean insecure = "true".equalsIgnoreCase(String.valueOf(map(metadata.get("annotations")).get(Annotations.INSECURE_SKIP_TLS_VERIFY)));
        if (!scheme.isEmpty() && !scheme.equals("http") && !scheme.equals("https")) {
            findings.add(new Finding("spec.scheme", "refused by the admission policy: http or https", true));
        }
        if ("https".equals(scheme) && !insecure) {
            findings.add(new Finding("spec.scheme", "the processor's TLS certificate and host name are verified now (KubeDiag verified "
                    + "none): it needs a certificate the agent trusts, or the annotation " + Annotations.INSECURE_SKIP_TLS_VERIFY
                    + ": \"true\" to be called as KubeDiag called it", false));
        }
        if (ip instanceof String host) {
            if (!isIpAddress(host) && !host.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?\\.svc(\\..+)?")) {
                findings.add(new Finding("spec.externalIP", "neither an IP address (as KubeDiag required) nor a Service name", false));
            } else if (isIpAddress(host)) {
                findings.add(new Finding("spec.externalIP", "the admission policy admits a registration only for a Service of the cluster "
                        + "(NAME.NAMESPACE.svc) or a host listed in processorHosts of " + ADMISSION + ": add " + host + " there", false));
            }
        }
        if (ip == null && spec.get("ip") == null && BUILTIN_NAMESPACE.equals(namespace) && name != null) {
            Optional<StageWorker> builtIn = WorkerCatalog.builtIns().find(name);
            Optional<StageDefinition> stage = StageDefinition.ofProcessorType(kind);
            if (builtIn.isPresent() && stage.isPresent() && builtIn.get().stage() == stage.get().stage()) {
                findings.add(new Finding("spec.path", "registers a built-in: it runs in the agent's process, its path is not called; "
                        + "its timeoutSeconds (" + (spec.get("timeoutSeconds") == null ? "30 when not given" : spec.get("timeoutSeconds"))
                        + ") is the call's timeout", false));
            }
        }
    }

    private static boolean isIpAddress(String host) {
        if (!host.matches("[0-9.]+|[0-9a-fA-F:]+")) {
            return false;
        }
        try {
            InetAddress.getByName(host);
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        return value instanceof Map ? (Map<String, Object>) value : Map.of();
    }

    private static List<?> list(Object value) {
        return value instanceof List<?> list ? list : List.of();
    }

    private static String string(Object value) {
        return value instanceof String s ? s : null;
    }
}
