package io.kdiag.allinone;

import java.util.ArrayList;
import java.util.List;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * Runs one deployable in this process, the way the container image starts it: {@code kdiag agent|bridge|
 * status-writer|log-source}. Configuration comes from {@code KDIAG_*} variables and {@code --config FILE}; the
 * deployable's own {@code main} parses its arguments and owns the exit code.
 */
@Command
final class DeployableCommand implements Runnable {
    /** A deployable's entry point. */
    @FunctionalInterface
    interface Entry {
        void main(String[] args) throws Exception;
    }

    private final Entry entry;

    @Unmatched
    List<String> args = new ArrayList<>();

    private DeployableCommand(Entry entry) {
        this.entry = entry;
    }

    @Override
    public void run() {
        try {
            entry.main(args.toArray(String[]::new));
        } catch (Exception e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** Adds the four deployables as subcommands. */
    static void register(CommandLine cli) {
        add(cli, "agent", "Run the node agent of the node named by KDIAG_NODE_NAME (the DaemonSet container).",
                io.kdiag.nodeagent.Main::main);
        add(cli, "bridge", "Run the source bridge: CRs, Events, alerts and the ingest topic into kdiag.abnormals.",
                io.kdiag.sourcebridge.Main::main);
        add(cli, "status-writer", "Run the status writer: the fold of diagnosis events into statuses and CR status.",
                io.kdiag.statuswriter.Main::main);
        add(cli, "log-source", "Run the node-local log source (files, journal, kernel ring buffer) beside the agent.",
                io.kdiag.sourcebridge.log.LogSourceMain::main);
    }

    private static void add(CommandLine cli, String name, String description, Entry entry) {
        CommandLine sub = new CommandLine(new DeployableCommand(entry));
        sub.getCommandSpec().usageMessage().description(description);
        cli.addSubcommand(name, sub);
    }
}
