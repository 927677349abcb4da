package io.kdiag.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ReplayCommandTest {
    private final ReplayCommand.DurationConverter durations = new ReplayCommand.DurationConverter();

    @Test
    void shouldReadDurationsAsPeopleWriteThem() {
        assertThat(durations.convert("24h")).isEqualTo(Duration.ofHours(24));
        assertThat(durations.convert("90m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(durations.convert("7d")).isEqualTo(Duration.ofDays(7));
        assertThat(durations.convert("45s")).isEqualTo(Duration.ofSeconds(45));
        assertThat(durations.convert("PT2H")).isEqualTo(Duration.ofHours(2));
        assertThatThrownBy(() -> durations.convert("yesterday")).isInstanceOf(CommandLine.TypeConversionException.class)
                .hasMessageContaining("'yesterday' is not a duration");
    }

    @Test
    void shouldReadContextOverridesAsJsonElseAsText() {
        assertThat(ReplayCommand.jsonOrString("{\"commandPattern\":\"^java \"}")).isEqualTo(Map.of("commandPattern", "^java "));
        assertThat(ReplayCommand.jsonOrString("[1,2]")).isEqualTo(List.of(1, 2));
        assertThat(ReplayCommand.jsonOrString("15")).isEqualTo(15);
        assertThat(ReplayCommand.jsonOrString("^java ")).isEqualTo("^java ");
    }

    @Test
    void shouldRefuseOptionsThatDoNotGoTogetherBeforeTalkingToKafka() {
        assertThat(run("replay", "--restore", "--rediagnose", "process-match-diagnoser"))
                .contains("--restore and --rediagnose cannot be combined");
        assertThat(run("replay", "--since", "1h")).contains("--since and --context-override go with --rediagnose");
    }

    private static String run(String... args) {
        StringWriter err = new StringWriter();
        int exit = KdiagCommand.commandLine().setErr(new PrintWriter(err, true)).setOut(new PrintWriter(new StringWriter()))
                .execute(args);
        assertThat(exit).isEqualTo(2);
        return err.toString();
    }
}
