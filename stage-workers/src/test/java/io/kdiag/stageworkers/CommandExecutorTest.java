package io.kdiag.stageworkers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;

import io.kdiag.schemas.avro.CommandFinished;
import io.kdiag.schemas.avro.Stage;
import org.junit.jupiter.api.Test;

class CommandExecutorTest {

    @Test
    void shouldRefuseWhatIsNotAllowed() throws Exception {
        CommandResult result = new CommandExecutor(List.of()).run(List.of("echo", "hi"), null);

        assertThat(result.status()).isEqualTo(CommandResult.Status.REFUSED);
        assertThat(result.error()).contains("refused by policy", "none of the allowed forms");
    }

    @Test
    void shouldRefuseRelativePathsAndOtherDirectories() throws Exception {
        CommandExecutor executor = new CommandExecutor(List.of(ArgvPattern.prefix(List.of("echo"))));

        assertThat(executor.run(List.of("./echo", "x"), null).status()).isEqualTo(CommandResult.Status.REFUSED);
        assertThat(executor.run(List.of("/tmp/echo", "x"), null).status()).isEqualTo(CommandResult.Status.REFUSED);
    }

    @Test
    void shouldRunAnAllowedCommandByNameOrAbsolutePath() throws Exception {
        CommandExecutor executor = new CommandExecutor(List.of(ArgvPattern.prefix(List.of("echo")),
                ArgvPattern.prefix(List.of("/usr/bin/printf"))));

        CommandResult byName = executor.run(List.of("echo", "hello", "world"), 5);
        CommandResult byPath = executor.run(List.of("/usr/bin/printf", "%s", "x"), 5);

        assertThat(byName.status()).isEqualTo(CommandResult.Status.SUCCEEDED);
        assertThat(byName.stdout()).isEqualTo("hello world\n");
        assertThat(byName.error()).isNull();
        assertThat(byPath.stdout()).isEqualTo("x");
    }

    @Test
    void shouldKeepStdoutAndStderrApartAndReportTheExitCode() throws Exception {
        CommandResult result = new CommandExecutor(anyArguments("sh")).run(List.of("sh", "-c", "echo out; echo err >&2; exit 3"), 5);

        assertThat(result.stdout()).isEqualTo("out\n");
        assertThat(result.stderr()).isEqualTo("err\n");
        assertThat(result.error()).isEqualTo("exit code 3");
        assertThat(result.status()).isEqualTo(CommandResult.Status.EXITED_NON_ZERO);
        CommandFinished event = result.toEvent(Stage.Diagnosis);
        assertThat(event.getError()).isEqualTo("exit code 3");
        assertThat(event.getCommand()).containsExactly("sh", "-c", "echo out; echo err >&2; exit 3");
    }

    @Test
    void shouldKillTheWholeProcessGroupAtTheTimeout() throws Exception {
        CommandResult result = new CommandExecutor(anyArguments("sh"))
                .run(List.of("sh", "-c", "sleep 300 & echo $!; sleep 300; wait"), 1);

        assertThat(result.status()).isEqualTo(CommandResult.Status.TIMED_OUT);
        assertThat(result.error()).contains("timed out after 1 s");
        long child = Long.parseLong(result.stdout().strip());
        await().atMost(Duration.ofSeconds(10))
                .until(() -> ProcessHandle.of(child).map(p -> !p.isAlive()).orElse(true));
    }

    @Test
    void shouldCapEachOutputWithAMarker() throws Exception {
        CommandResult result = new CommandExecutor(anyArguments("head"), 1000).run(List.of("head", "-c", "100000", "/dev/zero"), 5);

        assertThat(result.status()).isEqualTo(CommandResult.Status.SUCCEEDED);
        assertThat(result.stdout()).hasSize(1000 + "\n[output truncated at 1000 bytes]".length())
                .endsWith("\n[output truncated at 1000 bytes]");
        assertThat(result.stderr()).isEmpty();
    }

    @Test
    void shouldReportACommandThatCannotStart() throws Exception {
        CommandResult result = new CommandExecutor(anyArguments("no-such-command-kdiag")).run(List.of("no-such-command-kdiag"), 5);

        assertThat(result.status()).isEqualTo(CommandResult.Status.EXITED_NON_ZERO);
        assertThat(result.error()).isNotNull();
    }

    private static List<ArgvPattern> anyArguments(String executable) {
        return List.of(ArgvPattern.prefix(List.of(executable)));
    }

    @Test
    void shouldMatchTheWholeArgvNotTheExecutableAlone() throws Exception {
        CommandExecutor executor = new CommandExecutor(List.of(ArgvPattern.argv(List.of("echo", "read-only"))));

        assertThat(executor.run(List.of("echo", "read-only"), 5).status()).isEqualTo(CommandResult.Status.SUCCEEDED);
        CommandResult more = executor.run(List.of("echo", "read-only", "and-more"), 5);
        assertThat(more.status()).isEqualTo(CommandResult.Status.REFUSED);
        assertThat(more.stdout()).isEmpty();
    }
}
