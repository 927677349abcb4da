package io.kdiag.allinone;

import io.kdiag.cli.KdiagCommand;
import io.kdiag.schemas.AvroTrust;
import picocli.CommandLine;

/**
 * The {@code kdiag} program: the commands of an installation, plus those that run components in this process — the
 * embedded stack ({@code demo}, {@code up}) and each deployable as the container image starts it.
 */
public final class Kdiag {
    private Kdiag() {
    }

    /** Runs the command line and exits with its code. */
    public static void main(String[] args) {
        // before anything can build or read a record, whatever the command touches first
        AvroTrust.install();
        CommandLine commandLine = commandLine();
        int exitCode = commandLine.execute(args);
        // picocli's writers buffer; System.exit would drop what they hold
        commandLine.getOut().flush();
        commandLine.getErr().flush();
        System.exit(exitCode);
    }

    /** The whole command line. */
    static CommandLine commandLine() {
        CommandLine commandLine = KdiagCommand.commandLine(new DemoCommand(), new UpCommand());
        DeployableCommand.register(commandLine);
        return commandLine;
    }
}
