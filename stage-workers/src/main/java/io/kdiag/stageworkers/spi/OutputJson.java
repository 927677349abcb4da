package io.kdiag.stageworkers.spi;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.kdiag.api.ApiSerialization;

/**
 * A worker's output (context updates, a plan) as JSON, written once: its text, the text's size in UTF-8, and its values
 * as reading the text back gives them (ordered maps, lists, text, {@code Integer}, {@code Long}, {@code BigInteger},
 * {@code Double}, booleans, {@code null}), which is the form the context holds and later workers get.
 *
 * <p>Output that is plain data already (the JDK's maps with text keys, lists, text, booleans, integers, finite doubles)
 * is copied into that form without reading the text back; anything else (a model object, a {@code Float}, a
 * {@code BigDecimal}, a set, ...) is written and read back, so its values are whatever the JSON says.
 */
public final class OutputJson {
    /** Deeper output is written and read back, so JSON's nesting limits apply to it as they always did. */
    private static final int MAX_COPIED_DEPTH = 64;
    /** Marks a value that is not plain data. */
    private static final Object NOT_PLAIN = new Object();

    private final Map<String, Object> values;
    private final String text;
    private final int utf8Bytes;

    private OutputJson(Map<String, Object> values, String text) {
        this.values = Collections.unmodifiableMap(values);
        this.text = text;
        this.utf8Bytes = text.getBytes(StandardCharsets.UTF_8).length;
    }

    /** The JSON of {@code output}. */
    public static OutputJson of(Map<String, ?> output) {
        if (copy(output, 0) instanceof Map<?, ?> copy) {
            @SuppressWarnings("unchecked")
            Map<String, Object> values = (Map<String, Object>) copy;
            return new OutputJson(values, ApiSerialization.json(values));
        }
        String text = ApiSerialization.json(output);
        return new OutputJson(ApiSerialization.jsonObject(text), text);
    }

    /** The values as reading {@link #text} gives them, read-only at the top. */
    public Map<String, Object> values() {
        return values;
    }

    /** The JSON text. */
    public String text() {
        return text;
    }

    /** The size of {@link #text} in UTF-8. */
    public int utf8Bytes() {
        return utf8Bytes;
    }

    /** {@code value} as reading its JSON back would give it, or {@link #NOT_PLAIN} when that takes writing and reading it. */
    private static Object copy(Object value, int depth) {
        if (value == null || value instanceof Boolean || value instanceof Integer) {
            return value;
        }
        if (value instanceof String text) {
            // UTF-8 has no unpaired surrogate: reading one back gives '?'
            return hasUnpairedSurrogate(text) ? NOT_PLAIN : text;
        }
        if (value instanceof Long || value instanceof Short || value instanceof Byte) {
            return integer(((Number) value).longValue());
        }
        if (value instanceof BigInteger big) {
            return big.bitLength() < Long.SIZE ? integer(big.longValue()) : NOT_PLAIN;
        }
        if (value instanceof Double number) {
            return Double.isFinite(number) ? number : NOT_PLAIN;
        }
        // the JDK's own collections only: a class of another package may tell JSON to write it otherwise
        if (depth >= MAX_COPIED_DEPTH || !value.getClass().getPackageName().equals("java.util")) {
            return NOT_PLAIN;
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> copy = new LinkedHashMap<>(Math.max(4, map.size() * 4 / 3 + 1));
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                Object element = entry.getKey() instanceof String ? copy(entry.getValue(), depth + 1) : NOT_PLAIN;
                if (element == NOT_PLAIN) {
                    return NOT_PLAIN;
                }
                copy.put((String) entry.getKey(), element);
            }
            return copy;
        }
        if (value instanceof List<?> list) {
            List<Object> copy = new ArrayList<>(list.size());
            for (Object item : list) {
                Object element = copy(item, depth + 1);
                if (element == NOT_PLAIN) {
                    return NOT_PLAIN;
                }
                copy.add(element);
            }
            return copy;
        }
        return NOT_PLAIN;
    }

    /** A JSON integer as reading it gives it: {@code Integer} when it fits, else {@code Long}. */
    private static Object integer(long value) {
        if (value == (int) value) {
            return (int) value;
        }
        return value;
    }

    private static boolean hasUnpairedSurrogate(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }
}
