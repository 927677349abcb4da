package io.kdiag.common.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;

/**
 * One configuration key, declared once with its type, default and documentation. The property name
 * {@code kdiag.node-name} is read from the environment as {@code KDIAG_NODE_NAME}.
 *
 * @param name property name, {@code kdiag.} followed by kebab-case words
 * @param parser turns the text into the typed value; throws {@link IllegalArgumentException} when it cannot
 * @param defaultValue text of the default, or {@code null} when the key is required
 * @param doc what the key does, for the configuration reference
 */
public record ConfigKey<T>(String name, Function<String, T> parser, String defaultValue, String doc) {

    /** Validates the declaration. */
    public ConfigKey {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(parser, "parser");
        if (!name.startsWith("kdiag.")) {
            throw new IllegalArgumentException("config keys start with 'kdiag.': " + name);
        }
    }

    /** The environment variable that sets this key. */
    public String envName() {
        return toEnvName(name);
    }

    /** {@code kdiag.kafka.bootstrap.servers} → {@code KDIAG_KAFKA_BOOTSTRAP_SERVERS}. */
    static String toEnvName(String property) {
        return property.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** A text value. */
    public static ConfigKey<String> string(String name, String defaultValue, String doc) {
        return new ConfigKey<>(name, Function.identity(), defaultValue, doc);
    }

    /** An integer in {@code [min, max]}. */
    public static ConfigKey<Integer> integer(String name, int defaultValue, int min, int max, String doc) {
        return new ConfigKey<>(name, text -> {
            int value = Integer.parseInt(text.strip());
            if (value < min || value > max) {
                throw new IllegalArgumentException("must be between " + min + " and " + max);
            }
            return value;
        }, String.valueOf(defaultValue), doc);
    }

    /** {@code true} or {@code false}. */
    public static ConfigKey<Boolean> bool(String name, boolean defaultValue, String doc) {
        return new ConfigKey<>(name, text -> switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("must be true or false");
        }, String.valueOf(defaultValue), doc);
    }

    /** A positive duration: an ISO-8601 duration ({@code PT30S}) or a number with a unit ({@code 500ms}, {@code 30s}, {@code 5m}, {@code 6h}). */
    public static ConfigKey<Duration> duration(String name, String defaultValue, String doc) {
        return new ConfigKey<>(name, ConfigKey::parseDuration, defaultValue, doc);
    }

    /** A filesystem path. */
    public static ConfigKey<Path> path(String name, String defaultValue, String doc) {
        return new ConfigKey<>(name, Path::of, defaultValue, doc);
    }

    /** A comma-separated list; blanks are dropped. */
    public static ConfigKey<List<String>> list(String name, String defaultValue, String doc) {
        return new ConfigKey<>(name, text -> Arrays.stream(text.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList(),
                defaultValue, doc);
    }

    /**
     * A positive duration as people write it: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 6h}, {@code 7d}, or
     * ISO-8601 ({@code PT30S}); the one parser of durations for configuration and command lines alike.
     *
     * @throws IllegalArgumentException when it is none
     */
    public static Duration parseDuration(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        Duration value;
        if (t.startsWith("p")) {
            value = Duration.parse(t.toUpperCase(Locale.ROOT));
        } else if (t.endsWith("ms")) {
            value = Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
        } else if (t.endsWith("s")) {
            value = Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
        } else if (t.endsWith("m")) {
            value = Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
        } else if (t.endsWith("h")) {
            value = Duration.ofHours(Long.parseLong(t.substring(0, t.length() - 1)));
        } else if (t.endsWith("d")) {
            value = Duration.ofDays(Long.parseLong(t.substring(0, t.length() - 1)));
        } else {
            throw new IllegalArgumentException("must be a duration such as 500ms, 30s, 5m, 6h or PT30S");
        }
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException("must be positive");
        }
        return value;
    }
}
