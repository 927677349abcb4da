package io.kdiag.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;

import io.kdiag.api.v1.Abnormal;
import io.kdiag.client.KdiagClient;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Phase;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code kdiag submit FILE}: publish an Abnormal, optionally wait for its final status. */
@Command(name = "submit", mixinStandardHelpOptions = true,
        description = "Publish an Abnormal manifest to the ingest topic. With --wait, print its final status as YAML; "
                + "the exit code is 0 for Succeeded, 1 for Failed, 2 when the timeout passed first.")
final class SubmitCommand implements Callable<Integer> {
    @ParentCommand
    KdiagCommand kdiag;

    @Parameters(paramLabel = "FILE", description = "Abnormal manifest (YAML or JSON).")
    Path file;

    @Option(names = "--wait", description = "Wait for the final status and print it.")
    boolean await;

    @Option(names = "--timeout", defaultValue = "120", description = "Seconds to wait with --wait (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Option(names = "--node", description = "Node to run on when the manifest names none (default: the local stack's node).")
    String node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        KdiagCommand.Connection connection = kdiag.connection();
        Abnormal abnormal = AbnormalFiles.read(file, node != null ? node : connection.localNode());
        try (KdiagClient client = connection.client()) {
            String uid = client.publish(abnormal);
            String ref = abnormal.getMetadata().getNamespace() == null ? "default/" + abnormal.getMetadata().getName()
                    : abnormal.getMetadata().getNamespace() + "/" + abnormal.getMetadata().getName();
            out.printf("abnormal %s submitted (uid %s, node %s)%n", ref, uid, abnormal.getSpec().nodeName);
            if (!await) {
                return 0;
            }
            Optional<AbnormalStatus> status = client.awaitFinalStatus(uid, Duration.ofSeconds(timeoutSeconds));
            if (status.isEmpty()) {
                err.printf("abnormal %s did not finish within %d s%n", ref, timeoutSeconds);
                return KdiagCommand.TIMED_OUT;
            }
            out.print(StatusPrinter.yaml(status.get()));
            return status.get().getPhase() == Phase.Succeeded ? 0 : 1;
        }
    }
}
