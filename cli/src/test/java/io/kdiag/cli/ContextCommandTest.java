package io.kdiag.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

class ContextCommandTest {
    @Test
    void shouldTakeTheAbnormalsNameThenTheKey() {
        ParseResult parsed = KdiagCommand.commandLine().parseArgs("context", "busy-node", "processInformation", "-n", "team");

        ContextCommand command = (ContextCommand) parsed.subcommand().commandSpec().userObject();
        assertThat(command.abnormal.name).isEqualTo("busy-node");
        assertThat(command.abnormal.namespace).isEqualTo("team");
        assertThat(command.key).isEqualTo("processInformation");
    }

    @Test
    void shouldRefuseACommandWithoutAKey() {
        CommandLine commandLine = KdiagCommand.commandLine();
        StringWriter err = new StringWriter();
        int exit = commandLine.setErr(new PrintWriter(err, true)).execute("context", "busy-node");

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains("Missing required parameter: 'KEY'");
    }
}
