package io.kdiag.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import io.kdiag.common.kafka.KafkaAcls;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AclsCommandTest {
    @TempDir
    Path home;

    private record Run(int exit, String out, String err) {
    }

    private Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 2];
        all[0] = "--home";
        all[1] = home.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        int exit = KdiagCommand.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(all);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void shouldPrintTheSetAsATableWithoutTalkingToKafka() {
        Run printed = run("acls");

        assertThat(printed.exit()).isZero();
        assertThat(printed.out().lines().findFirst()).hasValueSatisfying(header ->
                assertThat(header.split(" +")).containsExactly("PRINCIPAL", "PERMISSION", "OPERATION", "RESOURCE", "PATTERN", "NAME"));
        assertThat(printed.out().lines().skip(1).map(l -> String.join(" ", l.split(" +"))).toList())
                .containsExactlyElementsOf(KafkaAcls.format(new KafkaAcls("kdiag.").defaultBindings()).lines().toList());
    }

    @Test
    void shouldGrantTheUsersGivenForTheirRoles() {
        Run printed = run("acls", "--user", "node-agent=agent-prod", "--user", "source-bridge=bridge-prod");

        assertThat(printed.out()).containsPattern("User:agent-prod +ALLOW +READ +TOPIC +LITERAL +kdiag.abnormals")
                .containsPattern("User:bridge-prod +ALLOW +READ +GROUP +LITERAL +kdiag.source-bridge")
                .contains("User:kdiag-ingest").doesNotContain("User:kdiag-node-agent").doesNotContain("User:kdiag-source-bridge");
    }

    @Test
    void shouldRefuseAnUnknownRole() {
        Run refused = run("acls", "--user", "operator=root");

        assertThat(refused.exit()).isEqualTo(2);
        assertThat(refused.err()).contains("unknown role operator; one of [source-bridge, log-source, node-agent, status-writer, "
                + "reader, ingest, cli, approver]");
    }
}
