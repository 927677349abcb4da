package io.kdiag.nodeagent.policy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.stageworkers.ArgvPattern;
import tools.jackson.core.type.TypeReference;

/**
 * What privileged work the agent may do for an abnormal. The agent runs commands, profiles processes and sends signals
 * as root on its node for whoever could create an abnormal (a namespace's users, an alert, a log line), so the policy
 * says which processors, commands and profilers each namespace and origin may use, which invocations commands may be
 * (the whole argv, {@link ArgvPattern}), which signals may be sent, and caps timeouts and output. Immutable;
 * {@link PolicyHolder} swaps in a new one when the policy file changes.
 *
 * <p>Without a policy file nothing privileged is allowed ({@link #defaults}): the read-only built-ins for the
 * {@code CustomResource} and {@code IngestTopic} origins, and nothing at all for any other origin.
 *
 * <p>Every check returns {@code null} when allowed, else a message naming the rule that refused.
 */
public final class Policy {
    /** Signals a policy file allows when it names none: SIGHUP, SIGINT, SIGKILL, SIGTERM. */
    static final List<Integer> DEFAULT_SIGNALS = List.of(1, 2, 9, 15);
    /**
     * The origins that get the read-only built-ins without a policy file: Abnormal resources (whose authors admission
     * checks) and the ingest topic (the CLI and ingest producers, whom Kafka ACLs name).
     */
    static final List<String> DEFAULT_ORIGINS = List.of(Origin.CustomResource.name(), Origin.IngestTopic.name());
    /** Cap of each of a command's stdout and stderr without a policy file. */
    static final int DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;
    private static final Set<String> TOP_KEYS = Set.of("commandAllowlist", "allowedSignals", "maxTimeoutSeconds", "maxOutputBytes", "grants");
    private static final Set<String> GRANT_KEYS = Set.of("namespaces", "origins", "processors", "commands", "profilers", "requireApproval");
    private static final Set<String> COMMAND_FORMS = Set.of("prefix", "argv");
    private static final Set<String> LANGUAGES = Set.of("go", "java", "python");

    /** The YAML/JSON reader, loaded with the first policy file: the defaults need none of its classes. */
    private static final class Parser {
        static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
    }

    /**
     * One grant: abnormals from these namespaces and origins may use these processors, commands and profilers; with
     * {@code requireApproval}, a recoverer among these processors runs only after a person approved it.
     */
    record Grant(List<String> namespaces, List<String> origins, List<String> processors, List<String> commands, List<String> profilers,
                 boolean requireApproval) {
        boolean covers(String namespace, Origin origin) {
            return matchesAny(namespaces, namespace) && (origins.contains("*") || origins.contains(origin.name()));
        }
    }

    private final String source;
    private final List<ArgvPattern> commandAllowlist;
    private final List<Grant> grants;
    private final List<Integer> allowedSignals;
    private final Integer maxTimeoutSeconds;
    private final int maxOutputBytes;

    private Policy(String source, List<ArgvPattern> commandAllowlist, List<Grant> grants, List<Integer> allowedSignals,
                   Integer maxTimeoutSeconds, int maxOutputBytes) {
        this.source = source;
        this.commandAllowlist = List.copyOf(commandAllowlist);
        this.grants = List.copyOf(grants);
        this.allowedSignals = List.copyOf(allowedSignals);
        this.maxTimeoutSeconds = maxTimeoutSeconds;
        this.maxOutputBytes = maxOutputBytes;
    }

    /**
     * The policy without a file, deny by default: the {@code CustomResource} and {@code IngestTopic} origins may use
     * these processors (the built-in collectors and diagnosers, which only read), in every namespace; nobody may run a
     * command, a profiler, a recoverer or send a signal, and the other origins ({@code Unknown} among them) get nothing.
     *
     * @param readOnlyProcessors {@code namespace/name} of each processor granted
     */
    public static Policy defaults(Collection<String> readOnlyProcessors) {
        Grant readOnly = new Grant(List.of("*"), DEFAULT_ORIGINS, List.copyOf(readOnlyProcessors), List.of(), List.of(), false);
        return new Policy("the default policy (no kdiag.policy-file)", List.of(), List.of(readOnly), List.of(), null,
                DEFAULT_MAX_OUTPUT_BYTES);
    }

    /**
     * Reads a policy file, YAML or JSON.
     *
     * @param source what to call it in messages (the file name)
     * @throws IllegalArgumentException naming the first invalid field
     */
    public static Policy parse(String text, String source) {
        Map<String, Object> doc;
        try {
            doc = Parser.SERIALIZATION.unmarshal(text, new TypeReference<Map<String, Object>>() {
            });
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a YAML or JSON object: " + e.getMessage(), e);
        }
        if (doc == null) {
            throw new IllegalArgumentException("the policy is empty");
        }
        unknownKeys(doc, TOP_KEYS, "");
        List<ArgvPattern> allowlist = new ArrayList<>();
        List<Object> forms = list(doc.get("commandAllowlist"), "commandAllowlist", List.of());
        for (int i = 0; i < forms.size(); i++) {
            allowlist.add(commandForm(forms.get(i), "commandAllowlist[" + i + "]"));
        }
        List<Integer> signals = new ArrayList<>();
        for (Object s : list(doc.get("allowedSignals"), "allowedSignals", List.copyOf(DEFAULT_SIGNALS))) {
            int signal = integer(s, "allowedSignals");
            if (signal < 0 || signal > 64) {
                throw new IllegalArgumentException("allowedSignals: " + signal + " is not a signal number");
            }
            signals.add(signal);
        }
        Integer maxTimeout = doc.get("maxTimeoutSeconds") == null ? null : integer(doc.get("maxTimeoutSeconds"), "maxTimeoutSeconds");
        if (maxTimeout != null && maxTimeout < 1) {
            throw new IllegalArgumentException("maxTimeoutSeconds must be at least 1");
        }
        int maxOutput = doc.get("maxOutputBytes") == null ? DEFAULT_MAX_OUTPUT_BYTES : integer(doc.get("maxOutputBytes"), "maxOutputBytes");
        if (maxOutput < 1) {
            throw new IllegalArgumentException("maxOutputBytes must be at least 1");
        }
        List<Grant> grants = new ArrayList<>();
        List<Object> raw = list(doc.get("grants"), "grants", List.of());
        for (int i = 0; i < raw.size(); i++) {
            String at = "grants[" + i + "]";
            if (!(raw.get(i) instanceof Map<?, ?> g)) {
                throw new IllegalArgumentException(at + " must be an object");
            }
            unknownKeys(g, GRANT_KEYS, at + ".");
            List<String> origins = strings(g.get("origins"), at + ".origins", List.of("*"));
            Set<String> known = java.util.Arrays.stream(Origin.values()).map(Origin::name).collect(Collectors.toSet());
            for (String origin : origins) {
                if (!origin.equals("*") && !known.contains(origin)) {
                    throw new IllegalArgumentException(at + ".origins: unknown origin " + origin + "; one of " + known + " or *");
                }
            }
            List<String> processors = strings(g.get("processors"), at + ".processors", List.of());
            for (String p : processors) {
                if (!p.equals("*") && p.split("/", -1).length != 2) {
                    throw new IllegalArgumentException(at + ".processors: " + p + " must be namespace/name (either may be *) or *");
                }
            }
            List<String> profilers = strings(g.get("profilers"), at + ".profilers", List.of());
            for (String language : profilers) {
                if (!language.equals("*") && !LANGUAGES.contains(language)) {
                    throw new IllegalArgumentException(at + ".profilers: " + language + " is not one of " + LANGUAGES + " or *");
                }
            }
            Object requireApproval = g.get("requireApproval") == null ? Boolean.FALSE : g.get("requireApproval");
            if (!(requireApproval instanceof Boolean)) {
                throw new IllegalArgumentException(at + ".requireApproval must be true or false, not " + requireApproval);
            }
            grants.add(new Grant(strings(g.get("namespaces"), at + ".namespaces", List.of("*")), origins, processors,
                    strings(g.get("commands"), at + ".commands", List.of()), profilers, (Boolean) requireApproval));
        }
        return new Policy("policy " + source, allowlist, grants, signals, maxTimeout, maxOutput);
    }

    /** Whether an abnormal from {@code namespace} and {@code origin} may use this processor. */
    public String processor(String namespace, Origin origin, String processorNamespace, String processorName) {
        String processor = processorNamespace + "/" + processorName;
        for (Grant grant : grants) {
            if (grant.covers(namespace, origin) && grant.processors().stream().anyMatch(p -> processorMatches(p, processorNamespace, processorName))) {
                return null;
            }
        }
        return "no grant of " + source + " allows processor " + processor + " for namespace " + namespace + " and origin " + origin;
    }

    /**
     * Which grant makes this processor wait for approval for an abnormal from {@code namespace} and {@code origin}: the
     * first with {@code requireApproval} that covers the abnormal and allows the processor; {@code null} for none.
     */
    public String approvalRequiredBy(String namespace, Origin origin, String processorNamespace, String processorName) {
        for (int i = 0; i < grants.size(); i++) {
            Grant grant = grants.get(i);
            if (grant.requireApproval() && grant.covers(namespace, origin)
                    && grant.processors().stream().anyMatch(p -> processorMatches(p, processorNamespace, processorName))) {
                return "grants[" + i + "] of " + source + " (requireApproval)";
            }
        }
        return null;
    }

    /** One entry of {@code commandAllowlist}: {@code {prefix: [executable, words...]}} or {@code {argv: [executable, patterns...]}}. */
    private static ArgvPattern commandForm(Object entry, String at) {
        if (!(entry instanceof Map<?, ?> form)) {
            throw new IllegalArgumentException(at + ": " + entry + " must be {prefix: [...]} or {argv: [...]}: an executable name "
                    + "alone would allow any arguments; write {prefix: [" + entry + "]} if every use of it only reads");
        }
        unknownKeys(form, COMMAND_FORMS, at + ".");
        if (form.size() != 1) {
            throw new IllegalArgumentException(at + " must have exactly one of prefix or argv");
        }
        String kind = String.valueOf(form.keySet().iterator().next());
        List<String> words = new ArrayList<>();
        for (Object word : list(form.get(kind), at + "." + kind, List.of())) {
            if (!(word instanceof String text)) {
                throw new IllegalArgumentException(at + "." + kind + " must be a list of strings, not " + word);
            }
            words.add(text);
        }
        try {
            return kind.equals("prefix") ? ArgvPattern.prefix(words) : ArgvPattern.argv(words);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(at + "." + kind + ": " + e.getMessage(), e);
        }
    }

    /** Whether an abnormal from {@code namespace} and {@code origin} may run this command (executable and arguments). */
    public String command(String namespace, Origin origin, List<String> argv) {
        if (argv == null || argv.isEmpty() || argv.get(0) == null || argv.get(0).isBlank()) {
            return "an empty command is never run";
        }
        if (argv.stream().anyMatch(Objects::isNull) || commandAllowlist.stream().noneMatch(form -> form.matches(argv))) {
            return String.join(" ", argv) + " has none of the forms of the commandAllowlist of " + source;
        }
        String executable = argv.get(0);
        for (Grant grant : grants) {
            if (grant.covers(namespace, origin) && (grant.commands().contains("*") || grant.commands().contains(executable))) {
                return null;
            }
        }
        return "no grant of " + source + " allows command " + executable + " for namespace " + namespace + " and origin " + origin;
    }

    /** Whether an abnormal from {@code namespace} and {@code origin} may use a profiler of this language. */
    public String profiler(String namespace, Origin origin, String language) {
        for (Grant grant : grants) {
            if (grant.covers(namespace, origin) && (grant.profilers().contains("*") || grant.profilers().contains(language))) {
                return null;
            }
        }
        return "no grant of " + source + " allows " + language + " profilers for namespace " + namespace + " and origin " + origin;
    }

    /**
     * Whether {@code signal} may be sent to {@code pid}: never PID 1 (or below), the agent or one of its ancestors, and
     * only the allowed signals (and 0, which only checks that the process exists).
     */
    String signal(long pid, long signal, long agentPid) {
        if (pid <= 1) {
            return "pid " + pid + " is never signalled";
        }
        for (ProcessHandle p = ProcessHandle.of(agentPid).orElse(null); p != null; p = p.parent().orElse(null)) {
            if (p.pid() == pid) {
                return "pid " + pid + " is the agent or one of its ancestors and is never signalled";
            }
        }
        if (pid == agentPid) {
            return "pid " + pid + " is the agent or one of its ancestors and is never signalled";
        }
        // signal 0 delivers nothing: it only checks that the process exists
        if (signal != 0 && !allowedSignals.contains((int) signal)) {
            return "signal " + signal + " is not in the allowedSignals " + allowedSignals + " of " + source;
        }
        return null;
    }

    /**
     * Checks every entry of a {@code signalRecovery} input ({@code [{pid, signal}]}); entries that are not numbers are
     * left to the recoverer, which reports them as invalid input.
     */
    public String signals(Object signalRecovery, long agentPid) {
        if (!(signalRecovery instanceof List<?> entries)) {
            return null;
        }
        for (Object e : entries) {
            if (e instanceof Map<?, ?> entry && entry.get("pid") instanceof Number pid && entry.get("signal") instanceof Number signal) {
                String refused = signal(pid.longValue(), signal.longValue(), agentPid);
                if (refused != null) {
                    return refused;
                }
            }
        }
        return null;
    }

    /** A requested timeout in seconds (default when {@code null} or below 1), capped by {@code maxTimeoutSeconds}. */
    public int timeoutSeconds(Integer requested, int defaultSeconds) {
        int seconds = requested == null || requested < 1 ? defaultSeconds : requested;
        return maxTimeoutSeconds == null ? seconds : Math.min(seconds, maxTimeoutSeconds);
    }

    /** A timeout capped by {@code maxTimeoutSeconds}. */
    public Duration timeout(Duration requested) {
        return maxTimeoutSeconds == null || requested.compareTo(Duration.ofSeconds(maxTimeoutSeconds)) <= 0
                ? requested : Duration.ofSeconds(maxTimeoutSeconds);
    }

    /** Cap of each of a command's stdout and stderr. */
    public int maxOutputBytes() {
        return maxOutputBytes;
    }

    /** The allowed forms of commands, for the {@link io.kdiag.stageworkers.CommandExecutor}. */
    public List<ArgvPattern> commandAllowlist() {
        return commandAllowlist;
    }

    /** Where this policy came from, for messages. */
    String source() {
        return source;
    }

    private static boolean processorMatches(String pattern, String namespace, String name) {
        if (pattern.equals("*")) {
            return true;
        }
        String[] parts = pattern.split("/", -1);
        return glob(parts[0]).matcher(namespace).matches() && glob(parts[1]).matcher(name).matches();
    }

    private static boolean matchesAny(List<String> patterns, String value) {
        return patterns.stream().anyMatch(p -> glob(p).matcher(value).matches());
    }

    private static Pattern glob(String pattern) {
        return Pattern.compile(java.util.Arrays.stream(pattern.split("\\*", -1)).map(Pattern::quote).collect(Collectors.joining(".*")));
    }

    private static void unknownKeys(Map<?, ?> map, Set<String> known, String prefix) {
        for (Object key : map.keySet()) {
            if (!known.contains(String.valueOf(key))) {
                throw new IllegalArgumentException("unknown field " + prefix + key + "; known: " + known.stream().sorted().toList());
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object value, String field, List<?> dflt) {
        if (value == null) {
            return (List<Object>) dflt;
        }
        if (!(value instanceof List<?> list)) {
            throw new IllegalArgumentException(field + " must be a list");
        }
        return (List<Object>) list;
    }

    private static List<String> strings(Object value, String field, List<String> dflt) {
        List<String> result = new ArrayList<>();
        for (Object item : list(value, field, dflt)) {
            if (!(item instanceof String s) || s.isBlank()) {
                throw new IllegalArgumentException(field + " must be a list of non-empty strings");
            }
            result.add(s.strip());
        }
        return result;
    }

    private static int integer(Object value, String field) {
        if (value instanceof Number n && n.doubleValue() == n.intValue()) {
            return n.intValue();
        }
        throw new IllegalArgumentException(field + " must be an integer, not " + value);
    }

    @Override
    public String toString() {
        return source;
    }
}
