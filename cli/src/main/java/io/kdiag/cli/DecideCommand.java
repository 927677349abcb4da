package io.kdiag.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;

import io.kdiag.client.KdiagClient;
import io.kdiag.model.Phases;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.signing.SigningKey;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code kdiag approve NAME} and {@code kdiag deny NAME}: the decision on an abnormal whose recovery waits for approval,
 * signed with the approver's key (docs/recovery-control.md).
 */
abstract class DecideCommand implements Callable<Integer> {
    /** Where a running {@code kdiag up} keeps the key of the person who started it, under its home. */
    static final Path LOCAL_APPROVER_KEY = Path.of("data", "keys", "approver.pem");
    static final String EXIT_CODES_HEADING = "%nExit codes:%n";

    private final boolean approved;

    @ParentCommand
    KdiagCommand kdiag;

    @Spec
    CommandSpec spec;

    @Mixin
    AbnormalName abnormal;

    @Option(names = "--reason", paramLabel = "TEXT", description = "Why, for whoever reads the status and the history.")
    String reason;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "Seconds to wait for the abnormal to reach its wait for approval, when it has not yet (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Option(names = "--key", paramLabel = "FILE", description = "The approver's Ed25519 private key (PEM) that signs the decision "
            + "(default: $KDIAG_APPROVER_KEY, else the key of the running 'kdiag up').")
    Path key;

    DecideCommand(boolean approved) {
        this.approved = approved;
    }

    /** {@code kdiag approve}. */
    @Command(name = "approve", mixinStandardHelpOptions = true,
            description = "Approve the recovery of an abnormal that waits for approval (its RecoveryApproved condition is Unknown): "
                    + "its agent verifies the signature with the approvers' keys and runs the recovery.",
            exitCodeListHeading = EXIT_CODES_HEADING,
            exitCodeList = {"0:written and acknowledged by Kafka", "1:not found, not waiting for approval, no key, or Kafka refused",
                "2:invalid usage"})
    static final class Approve extends DecideCommand {
        Approve() {
            super(true);
        }
    }

    /** {@code kdiag deny}. */
    @Command(name = "deny", mixinStandardHelpOptions = true,
            description = "Deny the recovery of an abnormal that waits for approval: its recovery stage ends Failed (ApprovalDenied) "
                    + "without running anything.",
            exitCodeListHeading = EXIT_CODES_HEADING,
            exitCodeList = {"0:written and acknowledged by Kafka", "1:not found, not waiting for approval, no key, or Kafka refused",
                "2:invalid usage"})
    static final class Deny extends DecideCommand {
        Deny() {
            super(false);
        }
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SigningKey signingKey = SigningKey.read(keyFile());
        try (KdiagClient client = kdiag.client()) {
            Optional<AbnormalStatus> found = abnormal.newest(client, Duration.ZERO);
            if (found.isEmpty()) {
                abnormal.reportNotFound(err);
                return 1;
            }
            String uid = found.get().getUid();
            // submitted a moment ago, it may still be collecting or diagnosing: decide once it waits, or say it ended
            AbnormalStatus current = client.awaitStatus(s -> s.getUid().equals(uid)
                    && (KdiagClient.waitsForApproval(s) || Phases.isFinal(s.getPhase())), Duration.ofSeconds(timeoutSeconds)).orElse(found.get());
            client.decide(current, approved, reason, signingKey);
        }
        out.printf("abnormal %s %s%n", abnormal, approved ? "approved" : "denied");
        return 0;
    }

    /** {@code --key}, else {@code $KDIAG_APPROVER_KEY}, else the local stack's. */
    private Path keyFile() {
        if (key != null) {
            return key;
        }
        String env = System.getenv("KDIAG_APPROVER_KEY");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        Path local = kdiag.home().resolve(LOCAL_APPROVER_KEY);
        if (Files.exists(local)) {
            return local;
        }
        throw new CommandLine.ParameterException(spec.commandLine(),
                "no approver key: give --key FILE or set KDIAG_APPROVER_KEY (a PEM Ed25519 private key whose public key the agents trust)");
    }
}
