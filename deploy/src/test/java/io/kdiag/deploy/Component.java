package io.kdiag.deploy;

import java.lang.reflect.Method;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

import io.kdiag.common.config.ConfigKey;
import io.kdiag.nodeagent.NodeAgentConfig;
import io.kdiag.sourcebridge.SourceBridgeConfig;
import io.kdiag.statuswriter.StatusWriterConfig;

/**
 * The deployables, as the manifests name them (container names) and as the code declares them: the {@code kdiag}
 * subcommand that runs each, the configuration keys it reads, and the modules whose sources hold its endpoints.
 */
enum Component {
    NODE_AGENT("node-agent", "agent", NodeAgentConfig::keys, "node-agent", "common"),
    SOURCE_BRIDGE("source-bridge", "bridge", SourceBridgeConfig::keys, "source-bridge", "common"),
    STATUS_WRITER("status-writer", "status-writer", StatusWriterConfig::keys, "status-writer", "common"),
    LOG_SOURCE("log-source", "log-source", Component::logSourceKeys, "source-bridge", "common");

    /** The log source's entry point; its configuration is declared by a {@code keys()} of its package. */
    static final String LOG_SOURCE_MAIN = "io.kdiag.sourcebridge.log.LogSourceMain";

    final String container;
    final String subcommand;
    private final Supplier<List<ConfigKey<?>>> keys;
    final List<String> modules;

    Component(String container, String subcommand, Supplier<List<ConfigKey<?>>> keys, String... modules) {
        this.container = container;
        this.subcommand = subcommand;
        this.keys = keys;
        this.modules = List.of(modules);
    }

    /** Every key the component reads. */
    List<ConfigKey<?>> keys() {
        return keys.get();
    }

    static Component byContainer(String name) {
        for (Component c : values()) {
            if (c.container.equals(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException("container " + name + " is none of the deployables " + List.of(values()));
    }

    /**
     * The keys of the log source: a public static {@code keys()} of a class in the package of {@link #LOG_SOURCE_MAIN}
     * (its main class or its config class), found at run time so the check follows the code.
     */
    @SuppressWarnings("unchecked")
    private static List<ConfigKey<?>> logSourceKeys() {
        Class<?> main;
        try {
            main = Class.forName(LOG_SOURCE_MAIN);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("the agent pod runs the log source " + LOG_SOURCE_MAIN + ", which the source-bridge "
                    + "module on the class path does not have", e);
        }
        String pkg = main.getPackageName();
        for (String candidate : Set.of(main.getName(), pkg + ".LogSourceConfig")) {
            try {
                Method keys = Class.forName(candidate).getMethod("keys");
                return (List<ConfigKey<?>>) keys.invoke(null);
            } catch (ReflectiveOperationException e) {
                // not this one
            }
        }
        throw new IllegalStateException("no public static keys() in " + main.getName() + " or " + pkg + ".LogSourceConfig");
    }
}
