package io.kdiag.common.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

import io.kdiag.schemas.signing.SigningKey;

/**
 * Where configuration comes from: an optional properties file ({@code kdiag.*} names) overlaid by environment
 * variables ({@code KDIAG_*}), so a value in the environment wins. Kafka client settings pass through under
 * {@code kdiag.kafka.*} / {@code KDIAG_KAFKA_*}.
 */
public final class ConfigSource {
    private static final String KAFKA_PREFIX = "kdiag.kafka.";
    private final Map<String, String> properties;
    private final Map<String, String> environment;

    private ConfigSource(Map<String, String> properties, Map<String, String> environment) {
        this.properties = Map.copyOf(properties);
        this.environment = Map.copyOf(environment);
    }

    /** Configuration from the process environment and, if given, a properties file. */
    public static ConfigSource fromEnvironment(Path propertiesFile) {
        return of(propertiesFile == null ? Map.of() : readProperties(propertiesFile), System.getenv());
    }

    /** Configuration from maps, for tests and the all-in-one. */
    public static ConfigSource of(Map<String, String> properties, Map<String, String> environment) {
        return new ConfigSource(properties, environment);
    }

    /** The value of a key: environment, then file, then default; a key without any of them is an error. */
    public <T> T get(ConfigKey<T> key) {
        String text = environment.get(key.envName());
        String origin = key.envName();
        if (text == null) {
            text = properties.get(key.name());
            origin = key.name();
        }
        if (text == null) {
            text = key.defaultValue();
            origin = key.name() + " (default)";
        }
        if (text == null) {
            throw new ConfigException("missing required configuration " + key.name() + " (environment " + key.envName() + "): "
                    + key.doc());
        }
        try {
            return key.parser().apply(text);
        } catch (RuntimeException e) {
            throw new ConfigException("invalid " + origin + "=" + text + ": " + e.getMessage());
        }
    }

    /**
     * The private key of the PEM file a key names, or empty when it names none or its file does not exist (a mounted
     * Secret that is optional and was not created); a file that is not an Ed25519 private key is an error.
     */
    public Optional<SigningKey> optionalSigningKey(ConfigKey<String> key) {
        String file = get(key).strip();
        if (file.isEmpty() || !Files.exists(Path.of(file))) {
            return Optional.empty();
        }
        try {
            return Optional.of(SigningKey.read(Path.of(file)));
        } catch (IOException e) {
            throw new ConfigException("invalid " + key.name() + "=" + file + ": " + e.getMessage());
        }
    }

    /**
     * Kafka client settings passed through: {@code kdiag.kafka.bootstrap.servers} and
     * {@code KDIAG_KAFKA_BOOTSTRAP_SERVERS} both become {@code bootstrap.servers}. In environment names an underscore
     * stands for a dot, as Kafka's own names have no underscores.
     */
    public Map<String, Object> kafkaProperties() {
        Map<String, Object> kafka = new TreeMap<>();
        properties.forEach((k, v) -> {
            if (k.startsWith(KAFKA_PREFIX)) {
                kafka.put(k.substring(KAFKA_PREFIX.length()), v);
            }
        });
        String envPrefix = ConfigKey.toEnvName(KAFKA_PREFIX);
        environment.forEach((k, v) -> {
            if (k.startsWith(envPrefix)) {
                kafka.put(k.substring(envPrefix.length()).toLowerCase(java.util.Locale.ROOT).replace('_', '.'), v);
            }
        });
        return kafka;
    }

    /** Kafka settings with every secret replaced, safe to log. */
    public static Map<String, Object> redacted(Map<String, Object> kafka) {
        Map<String, Object> safe = new TreeMap<>();
        kafka.forEach((k, v) -> safe.put(k, isSecret(k) ? "[redacted]" : v));
        return safe;
    }

    static boolean isSecret(String key) {
        String k = key.toLowerCase(java.util.Locale.ROOT);
        return k.contains("password") || k.contains("secret") || k.contains("jaas") || k.contains("token")
                || k.endsWith(".key") || k.contains("credentials");
    }

    private static Map<String, String> readProperties(Path file) {
        Properties p = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            p.load(reader);
        } catch (IOException e) {
            throw new ConfigException("cannot read configuration file " + file + ": " + e.getMessage());
        }
        Map<String, String> map = new TreeMap<>();
        p.stringPropertyNames().forEach(n -> map.put(n, p.getProperty(n)));
        return map;
    }
}
