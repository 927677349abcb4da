package io.kdiag.reliability;

import io.kdiag.cli.KdiagCommand;

/** The {@code kdiag} commands of an installation, for a test to run as a process with its own environment (Kafka logins). */
final class KdiagCli {
    private KdiagCli() {
    }

    /** Runs one command line and exits with its code. */
    public static void main(String[] args) {
        System.exit(KdiagCommand.commandLine().execute(args));
    }
}
