package io.kdiag.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.kdiag.api.ApiSerialization;

/**
 * The part of kubectl's JSONPath that {@code -o jsonpath=} and {@code -o custom-columns=} are used with: paths of
 * {@code .field}, {@code ['field']}, {@code [n]} and {@code [*]}, and templates of literal text, {@code {path}},
 * {@code {range path}...{end}} and quoted literals such as {@code {"\n"}}. A template without braces is one path, as
 * kubectl takes it.
 */
final class JsonPath {
    private JsonPath() {
    }

    /** The values a path selects from a JSON tree (maps, lists, scalars); none when it leads nowhere. */
    static List<Object> select(Object root, String path) {
        List<Object> current = new ArrayList<>(List.of(root == null ? Map.of() : root));
        int i = path.startsWith("$") ? 1 : 0;
        while (i < path.length()) {
            char c = path.charAt(i);
            List<Object> next = new ArrayList<>();
            if (c == '.') {
                int end = i + 1;
                while (end < path.length() && path.charAt(end) != '.' && path.charAt(end) != '[') {
                    end++;
                }
                String field = path.substring(i + 1, end);
                if (!field.isEmpty()) {
                    current.forEach(v -> field(v, field, next));
                    current = next;
                }
                i = end;
            } else if (c == '[') {
                int end = path.indexOf(']', i);
                if (end < 0) {
                    throw new IllegalArgumentException("unclosed [ in " + path);
                }
                String inside = path.substring(i + 1, end).strip();
                for (Object v : current) {
                    if (inside.equals("*")) {
                        if (v instanceof List<?> list) {
                            next.addAll(list);
                        } else if (v instanceof Map<?, ?> map) {
                            next.addAll(map.values());
                        }
                    } else if (inside.startsWith("'") || inside.startsWith("\"")) {
                        field(v, inside.substring(1, inside.length() - 1), next);
                    } else if (v instanceof List<?> list) {
                        int index;
                        try {
                            index = Integer.parseInt(inside);
                        } catch (NumberFormatException e) {
                            throw new IllegalArgumentException("not an index: [" + inside + "] in " + path);
                        }
                        index = index < 0 ? list.size() + index : index;
                        if (index >= 0 && index < list.size()) {
                            next.add(list.get(index));
                        }
                    }
                }
                current = next;
                i = end + 1;
            } else {
                throw new IllegalArgumentException("unexpected '" + c + "' at " + i + " in " + path + " (paths look like .items[*].metadata.name)");
            }
        }
        return current;
    }

    private static void field(Object value, String field, List<Object> out) {
        if (value instanceof Map<?, ?> map && map.containsKey(field)) {
            out.add(map.get(field));
        }
    }

    /** One value as text: strings as they are, anything else as JSON. */
    static String text(Object value) {
        return value instanceof String s ? s : ApiSerialization.json(value);
    }

    /** A template rendered against a JSON tree, as {@code kubectl -o jsonpath=TEMPLATE} does. */
    static String render(Object root, String template) {
        String relaxed = template.contains("{") ? template : "{" + template + "}";
        StringBuilder out = new StringBuilder();
        render(root, relaxed, 0, relaxed.length(), out);
        return out.toString();
    }

    private static void render(Object root, String template, int from, int to, StringBuilder out) {
        int i = from;
        while (i < to) {
            int open = template.indexOf('{', i);
            if (open < 0 || open >= to) {
                out.append(template, i, to);
                return;
            }
            out.append(template, i, open);
            int close = closing(template, open);
            String expression = template.substring(open + 1, close).strip();
            if (expression.startsWith("range ")) {
                int end = rangeEnd(template, close + 1, to);
                for (Object item : select(root, expression.substring("range ".length()).strip())) {
                    render(item, template, close + 1, end, out);
                }
                i = template.indexOf('}', end) + 1;
            } else if (expression.startsWith("\"") || expression.startsWith("'")) {
                out.append(unquote(expression));
                i = close + 1;
            } else {
                List<Object> values = select(root, expression);
                for (int v = 0; v < values.size(); v++) {
                    out.append(v == 0 ? "" : " ").append(text(values.get(v)));
                }
                i = close + 1;
            }
        }
    }

    private static int closing(String template, int open) {
        boolean quoted = false;
        char quote = 0;
        for (int i = open + 1; i < template.length(); i++) {
            char c = template.charAt(i);
            if (quoted) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quoted = false;
                }
            } else if (c == '"' || c == '\'') {
                quoted = true;
                quote = c;
            } else if (c == '}') {
                return i;
            }
        }
        throw new IllegalArgumentException("unclosed { in " + template);
    }

    /** Where the body of a range that starts at {@code from} ends: the {@code {end}} matching it, nested ranges skipped. */
    private static int rangeEnd(String template, int from, int to) {
        int depth = 0;
        int i = from;
        while (i < to) {
            int open = template.indexOf('{', i);
            if (open < 0 || open >= to) {
                break;
            }
            int close = closing(template, open);
            String expression = template.substring(open + 1, close).strip();
            if (expression.startsWith("range ")) {
                depth++;
            } else if (expression.equals("end")) {
                if (depth == 0) {
                    return open;
                }
                depth--;
            }
            i = close + 1;
        }
        throw new IllegalArgumentException("{range} without {end} in " + template);
    }

    private static String unquote(String literal) {
        String body = literal.substring(1, literal.length() - 1);
        return body.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r").replace("\\\"", "\"").replace("\\'", "'");
    }
}
