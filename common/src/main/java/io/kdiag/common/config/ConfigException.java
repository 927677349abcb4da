package io.kdiag.common.config;

/** A configuration value is missing or invalid; the message names the key. */
public class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An error about one key. */
    public ConfigException(String message) {
        super(message);
    }
}
