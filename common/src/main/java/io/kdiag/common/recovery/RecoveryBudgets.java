package io.kdiag.common.recovery;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.kdiag.common.config.ConfigException;
import io.kdiag.common.config.ConfigKey;
import io.kdiag.common.config.ConfigSource;
import tools.jackson.core.type.TypeReference;

/**
 * The cluster-wide recovery budgets, as an operator writes them in a YAML (or JSON) file: limits on how many recoveries
 * may start per window and how many nodes may be in recovery at once, for the recoverers and namespaces each budget
 * covers, and what happens to a recovery over budget ({@link OnExceeded}). The status writer's arbiter enforces them;
 * agents read the same file only to know which recoverers to ask about. Immutable.
 *
 * <pre>
 * budgets:
 * - name: signals-per-namespace
 *   recoverers: [kube-diagnoser/signal-recoverer]   # namespace/name, either may be *; default: every recoverer
 *   namespaces: ["*"]                                # the abnormals' namespaces it covers; default: all
 *   per: [namespace]                                 # counted apart per namespace and/or recoverer; default: one count
 *   maxRecoveries: 5                                 # at most 5 recoveries started ...
 *   window: 10m                                      # ... in any 10 minutes
 *   onExceeded: Fail                                 # Fail (the default) or Wait
 * - name: nodes-at-once
 *   maxNodesInRecovery: 3                            # at most 3 nodes running a recoverer at the same time
 *   onExceeded: Wait
 * maxWait: 10m                                       # a waiting recovery fails after this (default 10m)
 * releaseAfter: 1h                                   # a slot no agent gave back is freed after this (default 1h)
 * </pre>
 */
public final class RecoveryBudgets {
    /** What becomes of a recovery a budget has no room for. */
    public enum OnExceeded {
        /** The abnormal ends {@code Failed} with reason {@code BudgetExceeded}. */
        Fail,
        /** The recovery waits until the budget has room (at most {@code maxWait}), then runs. */
        Wait
    }

    /** What a budget counts apart: per abnormal namespace, per recoverer. */
    public enum Per {
        /** One count per abnormal namespace. */
        namespace,
        /** One count per recoverer. */
        recoverer
    }

    /**
     * One budget. Exactly one kind of limit: {@code maxRecoveries} per {@code window}, or {@code maxNodesInRecovery}.
     *
     * @param name unique, for messages, events and metrics
     * @param recoverers {@code namespace/name} patterns ({@code *} for either part) of the recoverers it covers
     * @param namespaces the abnormal namespaces it covers ({@code *} for all)
     * @param per what is counted apart
     * @param maxRecoveries most recoveries started per window; 0 when the budget limits nodes at once
     * @param window the sliding window of {@code maxRecoveries}; {@code null} when the budget limits nodes at once
     * @param maxNodesInRecovery most nodes running a covered recoverer at once; 0 when the budget limits a window
     * @param onExceeded what happens over budget
     */
    public record Budget(String name, List<String> recoverers, List<String> namespaces, Set<Per> per, int maxRecoveries, Duration window,
            int maxNodesInRecovery, OnExceeded onExceeded) {
        /** Whether the budget covers a recovery by this recoverer for an abnormal of this namespace. */
        public boolean covers(String namespace, String recovererNamespace, String recovererName) {
            return (namespaces.contains("*") || namespaces.contains(namespace))
                    && recoverers.stream().anyMatch(p -> matches(p, recovererNamespace, recovererName));
        }

        /** Whether it limits recoveries per window (else nodes in recovery at once). */
        public boolean windowed() {
            return window != null;
        }

        /** The limit: {@code maxRecoveries} or {@code maxNodesInRecovery}. */
        public int limit() {
            return windowed() ? maxRecoveries : maxNodesInRecovery;
        }

        /**
         * What this recovery counts against: the budget's name, with the namespace and recoverer when counted apart
         * ({@code signals-per-namespace namespace=default}).
         */
        public String countKey(String namespace, String recovererNamespace, String recovererName) {
            StringBuilder key = new StringBuilder(name);
            if (per.contains(Per.namespace)) {
                key.append(" namespace=").append(namespace);
            }
            if (per.contains(Per.recoverer)) {
                key.append(" recoverer=").append(recovererNamespace).append('/').append(recovererName);
            }
            return key.toString();
        }

        /** The limit in words: {@code 5 recoveries per 10m} or {@code 3 nodes in recovery at once}. */
        public String describeLimit() {
            return windowed() ? maxRecoveries + " recoveries per " + format(window)
                    : maxNodesInRecovery + " nodes in recovery at once";
        }

        private static boolean matches(String pattern, String namespace, String name) {
            if (pattern.equals("*")) {
                return true;
            }
            String[] parts = pattern.split("/", -1);
            return (parts[0].equals("*") || parts[0].equals(namespace)) && (parts[1].equals("*") || parts[1].equals(name));
        }
    }

    /** A duration as the file writes it, in its largest whole unit: {@code 10m}, {@code 90s}, {@code 1h}. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        for (Map.Entry<String, Long> unit : List.of(Map.entry("d", 86_400_000L), Map.entry("h", 3_600_000L), Map.entry("m", 60_000L),
                Map.entry("s", 1_000L))) {
            if (ms % unit.getValue() == 0) {
                return ms / unit.getValue() + unit.getKey();
            }
        }
        return ms + "ms";
    }

    /** The budget file of the agents and the status writer, which must be given the same one. */
    public static final ConfigKey<String> FILE = ConfigKey.string("kdiag.recovery-budgets-file", "",
            "YAML file of the cluster-wide recovery budgets (docs/recovery-control.md#budgets). Give the status writer, which then "
                    + "arbitrates, and every agent, which then asks before each recoverer a budget covers, the same file. Empty: no "
                    + "budgets; nothing is asked.");

    /**
     * The budgets of the file {@link #FILE} names, or {@code null} when it names none.
     *
     * @throws ConfigException naming the key and the first invalid field
     */
    public static RecoveryBudgets configured(ConfigSource source) {
        String file = source.get(FILE).strip();
        if (file.isEmpty()) {
            return null;
        }
        try {
            return read(Path.of(file));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(FILE.name() + ": " + e.getMessage());
        }
    }

    /** How long a waiting recovery waits at most without {@code maxWait}. */
    public static final Duration DEFAULT_MAX_WAIT = Duration.ofMinutes(10);
    /** After how long a slot no agent gave back is freed without {@code releaseAfter}. */
    public static final Duration DEFAULT_RELEASE_AFTER = Duration.ofHours(1);

    private static final Set<String> TOP_KEYS = Set.of("budgets", "maxWait", "releaseAfter");
    private static final Set<String> BUDGET_KEYS = Set.of("name", "recoverers", "namespaces", "per", "maxRecoveries", "window",
            "maxNodesInRecovery", "onExceeded");
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

    /** The YAML/JSON reader, loaded with the first file. */
    private static final class Parser {
        static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
    }

    private final List<Budget> budgets;
    private final Duration maxWait;
    private final Duration releaseAfter;

    private RecoveryBudgets(List<Budget> budgets, Duration maxWait, Duration releaseAfter) {
        this.budgets = List.copyOf(budgets);
        this.maxWait = maxWait;
        this.releaseAfter = releaseAfter;
    }

    /**
     * Reads a budget file.
     *
     * @throws IllegalArgumentException naming the file and the first invalid field
     */
    public static RecoveryBudgets read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the recovery budget file " + file + ": " + e.getMessage(), e);
        }
        try {
            return parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid recovery budget file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses budgets from YAML or JSON.
     *
     * @throws IllegalArgumentException naming the first invalid field
     */
    public static RecoveryBudgets parse(String text) {
        Map<String, Object> doc;
        try {
            doc = Parser.SERIALIZATION.unmarshal(text, new TypeReference<Map<String, Object>>() {
            });
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a YAML or JSON object: " + e.getMessage(), e);
        }
        if (doc == null) {
            throw new IllegalArgumentException("the file is empty; it must list budgets");
        }
        unknownKeys(doc, TOP_KEYS, "");
        Duration maxWait = duration(doc.get("maxWait"), "maxWait", DEFAULT_MAX_WAIT);
        Duration releaseAfter = duration(doc.get("releaseAfter"), "releaseAfter", DEFAULT_RELEASE_AFTER);
        if (!(doc.get("budgets") instanceof List<?> raw) || raw.isEmpty()) {
            throw new IllegalArgumentException("budgets must be a non-empty list");
        }
        List<Budget> budgets = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < raw.size(); i++) {
            Budget budget = budget(raw.get(i), "budgets[" + i + "]");
            if (!names.add(budget.name())) {
                throw new IllegalArgumentException("budgets[" + i + "].name: " + budget.name() + " is used twice");
            }
            budgets.add(budget);
        }
        return new RecoveryBudgets(budgets, maxWait, releaseAfter);
    }

    private static Budget budget(Object entry, String at) {
        if (!(entry instanceof Map<?, ?> b)) {
            throw new IllegalArgumentException(at + " must be an object");
        }
        unknownKeys(b, BUDGET_KEYS, at + ".");
        if (!(b.get("name") instanceof String name) || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(at + ".name must be a name of lower-case letters, digits and '-' (at most 63), not "
                    + b.get("name"));
        }
        at = "budget " + name;
        List<String> recoverers = strings(b.get("recoverers"), at + ": recoverers", List.of("*"));
        for (String p : recoverers) {
            if (!p.equals("*") && (p.split("/", -1).length != 2 || p.startsWith("/") || p.endsWith("/"))) {
                throw new IllegalArgumentException(at + ": recoverers: " + p + " must be namespace/name (either may be *) or *");
            }
        }
        List<String> namespaces = strings(b.get("namespaces"), at + ": namespaces", List.of("*"));
        Set<Per> per = new HashSet<>();
        for (String p : strings(b.get("per"), at + ": per", List.of())) {
            try {
                per.add(Per.valueOf(p));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(at + ": per: " + p + " is not one of namespace, recoverer", e);
            }
        }
        boolean windowed = b.containsKey("maxRecoveries") || b.containsKey("window");
        boolean atOnce = b.containsKey("maxNodesInRecovery");
        if (windowed == atOnce) {
            throw new IllegalArgumentException(at + " must have either maxRecoveries with window, or maxNodesInRecovery");
        }
        int maxRecoveries = 0;
        Duration window = null;
        int maxNodes = 0;
        if (windowed) {
            if (!b.containsKey("maxRecoveries") || !b.containsKey("window")) {
                throw new IllegalArgumentException(at + ": maxRecoveries and window go together");
            }
            maxRecoveries = positive(b.get("maxRecoveries"), at + ": maxRecoveries");
            window = duration(b.get("window"), at + ": window", null);
        } else {
            maxNodes = positive(b.get("maxNodesInRecovery"), at + ": maxNodesInRecovery");
        }
        OnExceeded onExceeded = OnExceeded.Fail;
        if (b.get("onExceeded") != null) {
            try {
                onExceeded = OnExceeded.valueOf(String.valueOf(b.get("onExceeded")));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(at + ": onExceeded: " + b.get("onExceeded") + " is not one of Fail, Wait", e);
            }
        }
        return new Budget(name, List.copyOf(recoverers), List.copyOf(namespaces), Set.copyOf(per), maxRecoveries, window, maxNodes, onExceeded);
    }

    private static void unknownKeys(Map<?, ?> map, Set<String> known, String at) {
        for (Object key : map.keySet()) {
            if (!known.contains(String.valueOf(key))) {
                throw new IllegalArgumentException(at + key + " is not a known field; the fields are " + known.stream().sorted().toList());
            }
        }
    }

    private static List<String> strings(Object value, String at, List<String> absent) {
        if (value == null) {
            return absent;
        }
        if (!(value instanceof List<?> list) || list.isEmpty() || !list.stream().allMatch(e -> e instanceof String s && !s.isBlank())) {
            throw new IllegalArgumentException(at + " must be a non-empty list of strings");
        }
        return list.stream().map(String.class::cast).toList();
    }

    private static int positive(Object value, String at) {
        if (!(value instanceof Integer n) || n < 1) {
            throw new IllegalArgumentException(at + " must be a whole number of at least 1, not " + value);
        }
        return n;
    }

    private static Duration duration(Object value, String at, Duration absent) {
        if (value == null && absent != null) {
            return absent;
        }
        Duration d;
        try {
            d = ConfigKey.parseDuration(String.valueOf(value));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(at + ": " + value + " is not a duration such as 30s, 10m or 1h", e);
        }
        if (d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(at + " must be longer than 0");
        }
        return d;
    }

    /** Every budget, in the order of the file. */
    public List<Budget> budgets() {
        return budgets;
    }

    /** The budgets that cover a recovery by this recoverer for an abnormal of this namespace, in the order of the file. */
    public List<Budget> covering(String namespace, String recovererNamespace, String recovererName) {
        return budgets.stream().filter(b -> b.covers(namespace, recovererNamespace, recovererName)).toList();
    }

    /** How long a recovery over a {@code Wait} budget waits at most before it fails. */
    public Duration maxWait() {
        return maxWait;
    }

    /** After how long the arbiter frees a slot no agent gave back (an agent that died while its recoverer ran). */
    public Duration releaseAfter() {
        return releaseAfter;
    }
}
