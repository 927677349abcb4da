package io.kdiag.sourcebridge.log;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.kdiag.common.config.ConfigException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * A node-problem-detector system-log-monitor configuration ({@code kernel-monitor.json}, {@code docker-monitor.json},
 * ...), read unchanged: {@code plugin} ({@code kmsg}, {@code journald}, {@code filelog}), {@code pluginConfig},
 * {@code logPath}, {@code lookback}, {@code bufferSize}, {@code source}, {@code metricsReporting}, {@code conditions}
 * and {@code rules}. Patterns are RE2, as NPD's Go {@code regexp} (here re2j, linear in the text). A rule matches as in
 * NPD: its pattern, with {@code \z} appended (not grouped), is searched in the last {@code bufferSize} messages joined
 * by newlines ({@link LogBuffer}), so it must match at the end of the newest message and may span several.
 *
 * @param file where it was read from
 * @param plugin which log it follows
 * @param logPath the file, the journal directory or the kmsg device, relative to the host root
 * @param source NPD's {@code source} name, e.g. {@code kernel-monitor}
 * @param messagePattern filelog only: its first group is the message of a line (lines it does not match are skipped)
 * @param journalIdentifier journald only: the {@code SYSLOG_IDENTIFIER} to follow
 * @param lookback on a first start (no checkpoint), how far back kmsg records are still reported; {@code null}: none
 * @param bufferSize how many of the latest messages a pattern is matched over (NPD's default: 10)
 * @param rules the rules, in order
 */
record MonitorConfig(Path file, String plugin, String logPath, String source, Pattern messagePattern, String journalIdentifier,
        Duration lookback, int bufferSize, List<Rule> rules) {
    private static final JsonMapper JSON = JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();
    private static final Set<String> FIELDS = Set.of("plugin", "pluginConfig", "logPath", "lookback", "bufferSize", "source",
            "metricsReporting", "conditions", "rules");
    private static final Set<String> RULE_FIELDS = Set.of("type", "condition", "reason", "pattern", "patternGeneratedMessageSuffix");
    private static final Set<String> PLUGINS = Set.of("kmsg", "journald", "filelog");
    private static final Pattern DURATION_PART = Pattern.compile("(\\d+)(ms|h|m|s)");
    /** NPD's default {@code bufferSize}. */
    static final int DEFAULT_BUFFER_SIZE = 10;
    /** A larger window costs every line that much more matching, for patterns spanning that many messages. */
    private static final int MAX_BUFFER_SIZE = 100;

    /**
     * One NPD rule.
     *
     * @param type {@code temporary} or {@code permanent}
     * @param condition the node condition a permanent rule sets, or {@code null}
     * @param reason what the problem is called, e.g. {@code OOMKilling}
     * @param pattern NPD's pattern with {@code \z} appended, as NPD compiles it
     * @param messageSuffix NPD's {@code patternGeneratedMessageSuffix}, or {@code null}
     */
    record Rule(String type, String condition, String reason, Pattern pattern, String messageSuffix) {
    }

    /** Reads and checks one file; the {@link ConfigException} names the file and what is wrong. */
    static MonitorConfig read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException("cannot read log monitor configuration " + file + ": " + e.getMessage());
        }
        return parse(file, text);
    }

    @SuppressWarnings("unchecked")
    static MonitorConfig parse(Path file, String text) {
        Map<String, Object> root;
        try {
            Object value = JSON.readValue(text, Object.class);
            if (!(value instanceof Map)) {
                throw fail(file, "must be a JSON object");
            }
            root = (Map<String, Object>) value;
        } catch (JacksonException e) {
            throw fail(file, "is not valid JSON: " + e.getOriginalMessage());
        }
        for (String key : root.keySet()) {
            if (!FIELDS.contains(key)) {
                throw fail(file, "has an unknown field '" + key + "'; the fields are " + new TreeSet<>(FIELDS));
            }
        }
        String plugin = string(file, root, "plugin", true);
        if (!PLUGINS.contains(plugin)) {
            throw fail(file, "plugin must be kmsg, journald or filelog, not '" + plugin + "'");
        }
        Map<String, Object> pluginConfig = root.get("pluginConfig") == null ? Map.of() : object(file, root.get("pluginConfig"), "pluginConfig");
        String logPath = string(file, root, "logPath", false);
        if (logPath == null) {
            logPath = switch (plugin) {
                case "kmsg" -> "/dev/kmsg";
                case "journald" -> "/var/log/journal";
                default -> throw fail(file, "logPath is required for the filelog plugin");
            };
        }
        Pattern message = null;
        String identifier = null;
        if ("filelog".equals(plugin) && pluginConfig.get("message") != null) {
            message = compile(file, string(file, pluginConfig, "message", true), "pluginConfig.message", false);
            if (message.groupCount() < 1) {
                throw fail(file, "pluginConfig.message must have a group that captures the message");
            }
        }
        if ("journald".equals(plugin)) {
            identifier = string(file, pluginConfig, "source", false);
        }
        String source = string(file, root, "source", false);
        List<Rule> rules = new ArrayList<>();
        Object rawRules = root.get("rules");
        if (!(rawRules instanceof List<?> list)) {
            throw fail(file, "rules must be a list");
        }
        for (int i = 0; i < list.size(); i++) {
            String path = "rules[" + i + "]";
            Map<String, Object> rule = object(file, list.get(i), path);
            for (String key : rule.keySet()) {
                if (!RULE_FIELDS.contains(key)) {
                    throw fail(file, path + " has an unknown field '" + key + "'; the fields are " + new TreeSet<>(RULE_FIELDS));
                }
            }
            String type = string(file, rule, "type", true);
            if (!"temporary".equals(type) && !"permanent".equals(type)) {
                throw fail(file, path + ".type must be temporary or permanent, not '" + type + "'");
            }
            String reason = string(file, rule, "reason", true);
            if (reason.isBlank()) {
                throw fail(file, path + ".reason must not be empty");
            }
            rules.add(new Rule(type, string(file, rule, "condition", false), reason,
                    compile(file, string(file, rule, "pattern", true), path + ".pattern", true),
                    string(file, rule, "patternGeneratedMessageSuffix", false)));
        }
        return new MonitorConfig(file, plugin, logPath, source == null ? plugin : source, message, identifier,
                lookback(file, string(file, root, "lookback", false)), bufferSize(file, root.get("bufferSize")), List.copyOf(rules));
    }

    private static int bufferSize(Path file, Object value) {
        if (value == null) {
            return DEFAULT_BUFFER_SIZE;
        }
        if (!(value instanceof Integer size) || size < 1 || size > MAX_BUFFER_SIZE) {
            throw fail(file, "bufferSize must be a whole number from 1 to " + MAX_BUFFER_SIZE + ", not " + value);
        }
        return size;
    }

    /** A Go duration as NPD writes it: {@code 5m}, {@code 1h30m}, {@code 90s}. */
    private static Duration lookback(Path file, String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        Matcher part = DURATION_PART.matcher(text);
        Duration total = Duration.ZERO;
        int end = 0;
        while (part.find() && part.start() == end) {
            long n = Long.parseLong(part.group(1));
            total = total.plus(switch (part.group(2)) {
                case "h" -> Duration.ofHours(n);
                case "m" -> Duration.ofMinutes(n);
                case "s" -> Duration.ofSeconds(n);
                default -> Duration.ofMillis(n);
            });
            end = part.end();
        }
        if (end != text.length() || end == 0) {
            throw fail(file, "lookback must be a duration such as 5m or 1h30m, not '" + text + "'");
        }
        return total;
    }

    private static Pattern compile(Path file, String pattern, String path, boolean atEnd) {
        try {
            // NPD appends \z without a group: "a|b" means a|(b\z), and so it does here
            return Pattern.compile(atEnd ? pattern + "\\z" : pattern);
        } catch (PatternSyntaxException e) {
            throw fail(file, path + " is not a valid RE2 regular expression: " + e.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Path file, Object value, String path) {
        if (!(value instanceof Map)) {
            throw fail(file, path + " must be an object");
        }
        return new LinkedHashMap<>((Map<String, Object>) value);
    }

    private static String string(Path file, Map<String, Object> object, String key, boolean required) {
        Object value = object.get(key);
        if (value == null) {
            if (required) {
                throw fail(file, key + " is required");
            }
            return null;
        }
        if (!(value instanceof String s)) {
            throw fail(file, key + " must be a string");
        }
        return s;
    }

    private static ConfigException fail(Path file, String message) {
        return new ConfigException("log monitor configuration " + file + " " + message);
    }

    /** A stable id of what this monitor follows, for checkpoints and dedup keys. */
    String id() {
        return plugin + ":" + logPath + (journalIdentifier == null ? "" : ":" + journalIdentifier);
    }
}
