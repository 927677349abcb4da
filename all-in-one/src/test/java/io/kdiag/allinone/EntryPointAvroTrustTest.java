package io.kdiag.allinone;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import io.kdiag.testkit.FreshJvm;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * Every entry point of a process leaves Avro trusting the project's records, whatever it loaded first: each
 * component's {@code main} (as its container image starts it) and each command of the {@code kdiag} program, found
 * on its command line so that a new one is covered too. Each runs in a fresh JVM ({@link FreshJvm}) as far as it
 * gets without Kafka or a cluster — a component to its missing-configuration error, a command through its arguments
 * and as much of its work as needs neither (e.g. {@code acls} prints its table) — and then that JVM copies a generated
 * record, which Avro refuses ({@code SecurityException: Forbidden io.kdiag.schemas.avro...}) unless the entry point
 * installed the trust.
 */
class EntryPointAvroTrustTest {
    /** Commands that, without arguments, start the whole stack: they only parse {@code --help}. */
    private static final Set<String> START_A_STACK = Set.of("demo", "up");

    @TempDir
    static Path home;

    static Stream<Class<?>> componentMains() {
        return Stream.of(io.kdiag.nodeagent.Main.class, io.kdiag.sourcebridge.Main.class, io.kdiag.statuswriter.Main.class,
                io.kdiag.sourcebridge.log.LogSourceMain.class);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("componentMains")
    void shouldLeaveAvroTrustingTheRecordsAfterAComponentStarts(Class<?> main) throws Exception {
        FreshJvm.Child child = FreshJvm.run(main);

        assertThat(child.output()).as("it ran as far as its configuration").contains("missing required configuration kdiag.kafka.bootstrap.servers");
        assertThat(child.avroTrusted()).as(child.output()).isTrue();
    }

    /** Every command of {@code kdiag}, as the words that name it ({@code stack down}, ...). */
    static Stream<List<String>> commands() {
        List<List<String>> commands = new ArrayList<>();
        collect(Kdiag.commandLine(), List.of(), commands);
        return commands.stream();
    }

    private static void collect(CommandLine commandLine, List<String> words, List<List<String>> commands) {
        commandLine.getSubcommands().forEach((name, sub) -> {
            // picocli lists a command once per alias
            if (!name.equals(sub.getCommandName())) {
                return;
            }
            List<String> path = new ArrayList<>(words);
            path.add(name);
            commands.add(path);
            collect(sub, path, commands);
        });
    }

    @ParameterizedTest(name = "kdiag {0}")
    @MethodSource("commands")
    void shouldLeaveAvroTrustingTheRecordsAfterAKdiagCommandRuns(List<String> command) throws Exception {
        List<String> args = new ArrayList<>(List.of("--home", home.toString()));
        args.addAll(command);
        if (START_A_STACK.contains(command.get(0))) {
            args.add("--help");
        }

        FreshJvm.Child child = FreshJvm.run(Kdiag.class, args.toArray(String[]::new));

        assertThat(child.avroTrusted()).as(child.output()).isTrue();
    }
}
