package io.kdiag.cli;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.kdiag.client.KdiagClient;
import io.kdiag.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code kdiag} command and its commands that talk to an installation through Kafka (and, where asked, the
 * Kubernetes API). The program that runs it adds the commands that run components themselves (the all-in-one stack).
 */
@Command(name = "kdiag", mixinStandardHelpOptions = true, version = "kdiag 0.1.0",
        description = "Kube Diagnoser: discover, diagnose and recover faults on Kubernetes nodes.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:success (submit --wait, watch: the abnormal Succeeded; replay: no differences)",
            "1:error: not found, Kafka or the API server unreachable, invalid input (submit --wait, watch: the abnormal Failed)",
            "2:invalid usage (submit --wait, watch: the timeout passed first)",
            "3:replay: differences were found; migrate check: objects work differently",
            "4:migrate check: an object does not apply unchanged"})
public final class KdiagCommand {
    private static final Logger LOG = LoggerFactory.getLogger(KdiagCommand.class);
    /** Exit code of a replay that found differences. */
    public static final int DIFFERENCES = 3;
    /** Exit code of {@code submit --wait} and {@code watch} when their timeout passed first (picocli's usage code). */
    static final int TIMED_OUT = 2;
    /** How long a Kafka call may block before the CLI gives up: long enough for a slow broker, short for a person. */
    private static final int KAFKA_API_TIMEOUT_MS = 15_000;

    @Option(names = "--home", description = "Folder for local data, logs and the running stack's address (default: $KDIAG_HOME or ./.kdiag).")
    Path home;

    @Option(names = {"--bootstrap-server"}, description = "Kafka bootstrap servers (default: the running 'kdiag up', or $KDIAG_KAFKA_BOOTSTRAP_SERVERS).")
    String bootstrapServers;

    /**
     * The command line with kubectl-like error reporting (one {@code error: ...} line on stderr, exit code 1): first the
     * given commands, then those of an installation (submit, get, watch, history, context, replay, stack, acls, recoveries,
     * approve, deny) and the
     * migration check.
     */
    public static CommandLine commandLine(Object... firstCommands) {
        CommandLine commandLine = new CommandLine(new KdiagCommand()).setCaseInsensitiveEnumValuesAllowed(true);
        for (Object command : firstCommands) {
            commandLine.addSubcommand(command);
        }
        for (Object command : List.of(new SubmitCommand(), new GetCommand(), new WatchCommand(), new HistoryCommand(),
                new ContextCommand(), new ReplayCommand(), new StackCommand(), new AclsCommand(), new RecoveriesCommand(), new DecideCommand.Approve(), new DecideCommand.Deny(),
                new MigrateCommand())) {
            commandLine.addSubcommand(command);
        }
        commandLine.setExecutionExceptionHandler((e, cmd, parsed) -> {
            LOG.warn("command failed command={}", cmd.getCommandName(), e);
            cmd.getErr().println("error: " + message(e));
            cmd.getErr().flush();
            return 1;
        });
        return commandLine;
    }

    private static String message(Throwable e) {
        Throwable t = e;
        // Kafka wraps the useful part; the outermost message that says something wins
        while (t.getMessage() == null && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof org.apache.kafka.common.errors.TimeoutException) {
            return "cannot reach Kafka: " + t.getMessage() + " (is 'kdiag up' running, or --bootstrap-server right?)";
        }
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }

    /** The folder of local data: {@code --home}, else {@code $KDIAG_HOME}, else {@code ./.kdiag}. */
    public Path home() {
        if (home != null) {
            return home;
        }
        String env = System.getenv("KDIAG_HOME");
        return Path.of(env != null ? env : ".kdiag");
    }

    /** How to reach Kafka: the flag, then the environment, then the running local stack. */
    public Connection connection() {
        Map<String, Object> kafka = new HashMap<>(io.kdiag.common.config.ConfigSource.fromEnvironment(null).kafkaProperties());
        StackFile stack = StackFile.read(home());
        String prefix = topicPrefix();
        if (bootstrapServers != null) {
            kafka.put("bootstrap.servers", bootstrapServers);
        } else if (!kafka.containsKey("bootstrap.servers")) {
            if (stack == null) {
                throw new CommandLine.ParameterException(new CommandLine(this),
                        "no Kafka to talk to: start one with './kdiag up', or give --bootstrap-server");
            }
            kafka.put("bootstrap.servers", stack.bootstrapServers());
        }
        kafka.putIfAbsent("default.api.timeout.ms", KAFKA_API_TIMEOUT_MS);
        kafka.putIfAbsent("max.block.ms", KAFKA_API_TIMEOUT_MS);
        return new Connection(kafka, Topics.reading(prefix, kafka), stack == null ? null : stack.nodeName());
    }

    /** The installation's topic prefix: {@code $KDIAG_TOPIC_PREFIX}, else the running local stack's, else the default. */
    public String topicPrefix() {
        StackFile stack = StackFile.read(home());
        return System.getenv().getOrDefault("KDIAG_TOPIC_PREFIX", stack != null ? stack.topicPrefix() : Topics.DEFAULT_PREFIX);
    }

    /** A client for the connection's Kafka and topics. */
    public KdiagClient client() {
        return connection().client();
    }

    /**
     * Kafka settings, topics, and the node of the local agent (null when not talking to a local stack).
     *
     * @param kafka client settings
     * @param topics the topic catalogue
     * @param localNode node name of the local stack's agent
     */
    public record Connection(Map<String, Object> kafka, Topics topics, String localNode) {
        /** A client of this Kafka and these topics. */
        public KdiagClient client() {
            return KdiagClient.builder().kafka(kafka).topicPrefix(topics.prefix()).build();
        }
    }
}
