package io.kdiag.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import io.kdiag.testkit.TestKafka;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kdiag acls --apply} against a broker without an authorizer (the embedded one of {@code kdiag up}). */
class AclsCommandIT {
    @TempDir
    Path home;

    @Test
    void shouldSayThatABrokerWithoutAnAuthorizerEnforcesNoAcl() {
        try (TestKafka kafka = TestKafka.start()) {
            StringWriter err = new StringWriter();
            StringWriter out = new StringWriter();
            int exit = KdiagCommand.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                    .execute("--home", home.toString(), "--bootstrap-server", kafka.bootstrapServers(), "acls", "--apply");

            assertThat(exit).isEqualTo(1);
            assertThat(out.toString()).isEmpty();
            assertThat(err.toString()).startsWith("error: the broker at " + kafka.bootstrapServers() + " has no authorizer")
                    .contains("none was applied");
        }
    }
}
