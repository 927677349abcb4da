package io.kdiag.sourcebridge.request;

import static io.kdiag.sourcebridge.request.ErrorText.quoted;
import static io.kdiag.sourcebridge.request.Refusal.Kind.BAD_NAME;
import static io.kdiag.sourcebridge.request.Refusal.Kind.BAD_SPEC;
import static io.kdiag.sourcebridge.request.Refusal.Kind.NO_NODE;
import static io.kdiag.sourcebridge.request.Refusal.Kind.TOO_LARGE;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.CommandExecutorSpec;
import io.kdiag.api.v1.NamespacedName;
import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.schemas.avro.AbnormalRequest;

/**
 * The rules a request must keep before it may reach a node: names Kubernetes would accept, a node to run on, and a
 * spec that parses into {@link AbnormalSpec} and keeps the Abnormal API's rules (a known source, processor references
 * with namespace and name, well-formed commands and profilers). It returns the request with its spec in canonical form:
 * {@code nodeName} filled in and {@code source} defaulted to {@code Custom}, as the original defaulting webhook did.
 */
public final class RequestValidator {
    static final int MAX_SPEC_BYTES = 512 * 1024;
    private static final Pattern DNS_1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern DNS_1123_SUBDOMAIN =
            Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final int MAX_LABEL = 63;
    private static final int MAX_SUBDOMAIN = 253;
    // a Kubernetes uid is a UUID; producers may use other stable ids, but nothing that breaks logs or keys
    private static final Pattern UID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");
    private static final Pattern LABEL_PART = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?");
    // labels ride along on every record; Kubernetes' rules keep them small and usable as CR labels
    private static final int MAX_LABELS = 64;
    private static final Set<String> SOURCES = Set.of("Custom", "KubernetesEvent", "PrometheusAlert", "Log");
    private static final String DEFAULT_SOURCE = "Custom";
    private static final Set<String> STAGES = Set.of("InformationCollector", "Diagnoser", "Recoverer");

    /** The request with its canonical spec, or a refusal naming the first rule it breaks. */
    public AbnormalRequest validate(AbnormalRequest request) throws Refusal {
        if (!UID.matcher(request.getUid()).matches()) {
            throw new Refusal(BAD_NAME, "uid " + quoted(request.getUid())
                    + " must be 1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit");
        }
        requireName("name", request.getName(), DNS_1123_SUBDOMAIN, MAX_SUBDOMAIN, "subdomain");
        requireName("namespace", request.getNamespace(), DNS_1123_LABEL, MAX_LABEL, "label");
        requireLabels(request.getLabels());
        int size = request.getSpec().getBytes(StandardCharsets.UTF_8).length;
        if (size > MAX_SPEC_BYTES) {
            throw new Refusal(TOO_LARGE, "spec is " + size + " bytes of JSON; at most " + MAX_SPEC_BYTES + " (512 KiB) are accepted");
        }
        AbnormalSpec spec = parse(request.getSpec());
        String nodeName = request.getNodeName();
        if (nodeName.isBlank()) {
            if (spec.podReference != null) {
                throw new Refusal(NO_NODE, "nodeName is required: a podReference alone cannot be resolved to a node without "
                        + "a Kubernetes cluster; set nodeName (top level or spec.nodeName) to the pod's node");
            }
            throw new Refusal(NO_NODE, "nodeName is required (top level or spec.nodeName): the node that runs the diagnosis");
        }
        requireName("nodeName", nodeName, DNS_1123_SUBDOMAIN, MAX_SUBDOMAIN, "subdomain");
        if (spec.nodeName != null && !spec.nodeName.isBlank() && !spec.nodeName.equals(nodeName)) {
            throw new Refusal(NO_NODE, "nodeName " + quoted(nodeName) + " and spec.nodeName " + quoted(spec.nodeName) + " disagree");
        }
        if (spec.source != null && !spec.source.isEmpty() && !SOURCES.contains(spec.source)) {
            throw new Refusal(BAD_SPEC, "spec.source " + quoted(spec.source) + " must be one of Custom, KubernetesEvent, PrometheusAlert, Log");
        }
        requireReferences("spec.assignedInformationCollectors", spec.assignedInformationCollectors);
        requireReferences("spec.assignedDiagnosers", spec.assignedDiagnosers);
        requireReferences("spec.assignedRecoverers", spec.assignedRecoverers);
        requireCommands(spec.commandExecutors);
        requireProfilers(spec.profilers);

        spec.nodeName = nodeName;
        if (spec.source == null || spec.source.isEmpty()) {
            spec.source = DEFAULT_SOURCE;
        }
        return AbnormalRequest.newBuilder(request).setSpec(ApiSerialization.json(spec)).build();
    }

    private static AbnormalSpec parse(String json) throws Refusal {
        try {
            AbnormalSpec spec = ApiSerialization.spec(json);
            if (spec == null) {
                throw new Refusal(BAD_SPEC, "spec must be a JSON object");
            }
            return spec;
        } catch (RuntimeException e) {
            throw new Refusal(BAD_SPEC, "spec is not a valid Abnormal spec: " + ErrorText.detail(e));
        }
    }

    private static void requireName(String field, String value, Pattern pattern, int maxLength, String kind) throws Refusal {
        if (value.length() > maxLength || !pattern.matcher(value).matches()) {
            throw new Refusal(BAD_NAME, field + " " + quoted(value) + " must be a DNS-1123 " + kind + ": at most " + maxLength
                    + " lower-case letters, digits, '-'" + ("subdomain".equals(kind) ? " and '.'" : "")
                    + ", starting and ending with a letter or digit");
        }
    }

    private static void requireLabels(Map<String, String> labels) throws Refusal {
        if (labels.size() > MAX_LABELS) {
            throw new Refusal(BAD_NAME, "labels has " + labels.size() + " entries; at most " + MAX_LABELS + " are accepted");
        }
        for (Map.Entry<String, String> label : labels.entrySet()) {
            String key = label.getKey();
            int slash = key.indexOf('/');
            String prefix = slash < 0 ? null : key.substring(0, slash);
            String name = key.substring(slash + 1);
            boolean validKey = (prefix == null || prefix.length() <= MAX_SUBDOMAIN && DNS_1123_SUBDOMAIN.matcher(prefix).matches())
                    && name.length() <= MAX_LABEL && LABEL_PART.matcher(name).matches();
            if (!validKey) {
                throw new Refusal(BAD_NAME, "label key " + quoted(key) + " is not a Kubernetes label key: an optional DNS-1123 "
                        + "subdomain and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit");
            }
            String value = label.getValue();
            if (!value.isEmpty() && (value.length() > MAX_LABEL || !LABEL_PART.matcher(value).matches())) {
                throw new Refusal(BAD_NAME, "label " + quoted(key) + " has value " + quoted(value) + ", not a Kubernetes label value: "
                        + "empty or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit");
            }
        }
    }

    private static void requireReferences(String field, List<NamespacedName> references) throws Refusal {
        if (references == null) {
            return;
        }
        for (int i = 0; i < references.size(); i++) {
            NamespacedName reference = references.get(i);
            if (reference == null || isBlank(reference.namespace) || isBlank(reference.name)) {
                throw new Refusal(BAD_SPEC, field + "[" + i + "] needs both a namespace and a name");
            }
        }
    }

    private static void requireCommands(List<CommandExecutorSpec> commands) throws Refusal {
        if (commands == null) {
            return;
        }
        for (int i = 0; i < commands.size(); i++) {
            CommandExecutorSpec command = commands.get(i);
            String field = "spec.commandExecutors[" + i + "]";
            if (command == null) {
                throw new Refusal(BAD_SPEC, field + " must be an object with command and type");
            }
            if (command.command == null || command.command.isEmpty() || isBlank(command.command.get(0))
                    || command.command.stream().anyMatch(argument -> argument == null)) {
                throw new Refusal(BAD_SPEC, field + ".command must be a non-empty list of strings, starting with the executable");
            }
            requireStage(field, command.type);
            requirePositive(field + ".timeoutSeconds", command.timeoutSeconds);
        }
    }

    private static void requireProfilers(List<ProfilerSpec> profilers) throws Refusal {
        if (profilers == null) {
            return;
        }
        Set<String> names = new HashSet<>();
        for (int i = 0; i < profilers.size(); i++) {
            ProfilerSpec profiler = profilers.get(i);
            String field = "spec.profilers[" + i + "]";
            if (profiler == null) {
                throw new Refusal(BAD_SPEC, field + " must be an object with name, type and one of go, java, python");
            }
            if (isBlank(profiler.name)) {
                throw new Refusal(BAD_SPEC, field + ".name is required");
            }
            if (!names.add(profiler.name)) {
                throw new Refusal(BAD_SPEC, field + ".name " + quoted(profiler.name) + " is used by another profiler; names must be unique");
            }
            requireStage(field, profiler.type);
            int targets = (profiler.go != null ? 1 : 0) + (profiler.java != null ? 1 : 0) + (profiler.python != null ? 1 : 0);
            if (targets != 1) {
                throw new Refusal(BAD_SPEC, field + " must set exactly one of go, java, python (it sets " + targets + ")");
            }
            requirePositive(field + ".timeoutSeconds", profiler.timeoutSeconds);
            requirePositive(field + ".expirationSeconds", profiler.expirationSeconds);
        }
    }

    private static void requireStage(String field, String type) throws Refusal {
        if (type == null || !STAGES.contains(type)) {
            throw new Refusal(BAD_SPEC, field + ".type " + quoted(type) + " must be one of InformationCollector, Diagnoser, Recoverer");
        }
    }

    private static void requirePositive(String field, Integer value) throws Refusal {
        if (value != null && value <= 0) {
            throw new Refusal(BAD_SPEC, field + " must be positive, not " + value);
        }
    }

    private static boolean isBlank(String value) {
        return value == null || value.isBlank();
    }
}
