package io.kdiag.client;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import io.kdiag.api.ApiSerialization;

/**
 * A compact structural diff of two JSON trees (maps, lists, scalars), one line per difference at the deepest place it
 * shows: {@code pods[2].diskUsage: 77824 → 81920}, {@code signalRecovery: added [...]}, {@code pods[3]: removed {...}}.
 * Lists compare by position. Long values are cut short and at most {@value #MAX_LINES} lines are given, with a count
 * of the rest.
 */
public final class ValueDiff {
    /** The most lines one diff gives. */
    static final int MAX_LINES = 20;
    /** The most characters of one value a line shows. */
    static final int MAX_VALUE_CHARS = 80;

    private ValueDiff() {
    }

    /** The differences from {@code before} to {@code after}; empty when they are equal. */
    public static List<String> of(Map<String, Object> before, Map<String, Object> after) {
        List<String> lines = new ArrayList<>();
        diff("", before, after, lines);
        if (lines.size() > MAX_LINES) {
            int more = lines.size() - MAX_LINES;
            List<String> kept = new ArrayList<>(lines.subList(0, MAX_LINES));
            kept.add("… " + more + " more");
            return kept;
        }
        return lines;
    }

    private static void diff(String path, Object before, Object after, List<String> lines) {
        if (Objects.equals(before, after)) {
            return;
        }
        if (before instanceof Map<?, ?> b && after instanceof Map<?, ?> a) {
            Set<Object> keys = new LinkedHashSet<>(b.keySet());
            keys.addAll(a.keySet());
            for (Object key : keys) {
                String at = path.isEmpty() ? String.valueOf(key) : path + "." + key;
                if (!a.containsKey(key)) {
                    lines.add(at + ": removed " + show(b.get(key)));
                } else if (!b.containsKey(key)) {
                    lines.add(at + ": added " + show(a.get(key)));
                } else {
                    diff(at, b.get(key), a.get(key), lines);
                }
            }
        } else if (before instanceof List<?> b && after instanceof List<?> a) {
            for (int i = 0; i < Math.max(b.size(), a.size()); i++) {
                String at = path + "[" + i + "]";
                if (i >= a.size()) {
                    lines.add(at + ": removed " + show(b.get(i)));
                } else if (i >= b.size()) {
                    lines.add(at + ": added " + show(a.get(i)));
                } else {
                    diff(at, b.get(i), a.get(i), lines);
                }
            }
        } else {
            lines.add(path + ": " + show(before) + " → " + show(after));
        }
    }

    private static String show(Object value) {
        String json = ApiSerialization.json(value);
        return json.length() <= MAX_VALUE_CHARS ? json : json.substring(0, MAX_VALUE_CHARS - 1) + "…";
    }
}
