package io.kdiag.cli;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import io.kdiag.schemas.Topics;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code kdiag} command. */
@Command(name = "kdiag", mixinStandardHelpOptions = true, version = "kdiag 0.1.0",
        description = "Kube Diagnoser: discover, diagnose and recover faults on Kubernetes nodes.",
        subcommands = {DemoCommand.class, UpCommand.class, SubmitCommand.class, GetCommand.class})
public final class Kdiag {
    @Option(names = "--home", description = "Folder for local data, logs and the running stack's address (default: $KDIAG_HOME or ./.kdiag).")
    Path home;

    @Option(names = {"--bootstrap-server"}, description = "Kafka bootstrap servers (default: the running 'kdiag up', or $KDIAG_KAFKA_BOOTSTRAP_SERVERS).")
    String bootstrapServers;

    /** Runs the command line and exits with its code. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new Kdiag()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
    }

    Path home() {
        if (home != null) {
            return home;
        }
        String env = System.getenv("KDIAG_HOME");
        return Path.of(env != null ? env : ".kdiag");
    }

    /** How to reach Kafka: the flag, then the environment, then the running local stack. */
    Connection connection() {
        Map<String, Object> kafka = new HashMap<>(io.kdiag.common.config.ConfigSource.fromEnvironment(null).kafkaProperties());
        StackFile stack = StackFile.read(home());
        String prefix = System.getenv().getOrDefault("KDIAG_TOPIC_PREFIX", stack != null ? stack.topicPrefix() : Topics.DEFAULT_PREFIX);
        if (bootstrapServers != null) {
            kafka.put("bootstrap.servers", bootstrapServers);
        } else if (!kafka.containsKey("bootstrap.servers")) {
            if (stack == null) {
                throw new CommandLine.ParameterException(new CommandLine(this),
                        "no Kafka to talk to: start one with './kdiag up', or give --bootstrap-server");
            }
            kafka.put("bootstrap.servers", stack.bootstrapServers());
        }
        return new Connection(kafka, new Topics(prefix), stack == null ? null : stack.nodeName());
    }

    /**
     * Kafka settings, topics, and the node of the local agent (null when not talking to a local stack).
     *
     * @param kafka client settings
     * @param topics the topic catalogue
     * @param localNode node name of the local stack's agent
     */
    record Connection(Map<String, Object> kafka, Topics topics, String localNode) {
    }
}
