package io.kdiag.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.RecoveryControl;
import io.kdiag.testkit.TestKafka;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kdiag recoveries pause|resume|status} against a broker: the record it writes is the one status reads back. */
class RecoveriesCommandIT {
    private static TestKafka kafka;

    @TempDir
    Path home;

    @BeforeAll
    static void startKafka() {
        kafka = TestKafka.start();
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    private record Run(int exit, String out, String err) {
    }

    private Run kdiag(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of("--home", home.toString(), "--bootstrap-server", kafka.bootstrapServers()));
        all.addAll(List.of(args));
        int exit = KdiagCommand.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(all.toArray(String[]::new));
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void shouldPauseAndResumeAndShowWhoDidIt() {
        Run missing = kdiag("recoveries", "status");
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).startsWith("error: topic kdiag.recovery-control does not exist");

        TopicAdmin.ensureTopics(Map.of("bootstrap.servers", kafka.bootstrapServers()), Topics.withDefaultPrefix(), 3, (short) 1);
        assertThat(kdiag("recoveries", "status").out()).contains("Running   <none>");

        assertThat(kdiag("recoveries", "pause", "--reason", "node drain")).isEqualTo(new Run(0, "recoveries paused\n", ""));
        String user = System.getProperty("user.name");
        assertThat(kdiag("recoveries", "status").out()).startsWith("STATE").contains("Paused", user, "node drain");

        assertThat(kdiag("recoveries", "resume")).isEqualTo(new Run(0, "recoveries resumed\n", ""));
        Run resumed = kdiag("recoveries", "status");
        assertThat(resumed.exit()).isZero();
        assertThat(resumed.out().lines().skip(1)).singleElement().asString().startsWith("Running").contains(user).endsWith("<none>");
    }

    @Test
    void shouldWriteAtOnceWhateverLingerTheUserSet() throws Exception {
        Map<String, Object> settings = Map.of("bootstrap.servers", kafka.bootstrapServers());
        Topics topics = new Topics("lingering.");
        TopicAdmin.ensureTopics(settings, topics, 3, (short) 1);
        Map<String, Object> lingering = new HashMap<>(settings);
        // far longer than the command waits: it returns only if it sends without waiting out the linger
        lingering.put(ProducerConfig.LINGER_MS_CONFIG, 600_000);

        RecoveriesCommand.Change.write(lingering, topics.recoveryControl(), new RecoveryControl(true, "lingering-user", Instant.now(), "drain"));

        assertThat(RecoveriesCommand.latest(settings, topics.recoveryControl()).getChangedBy()).isEqualTo("lingering-user");
    }
}
