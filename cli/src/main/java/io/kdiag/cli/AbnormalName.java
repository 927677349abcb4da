package io.kdiag.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Optional;

import io.kdiag.client.KdiagClient;
import io.kdiag.schemas.avro.AbnormalStatus;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The {@code NAME [-n NAMESPACE]} of the commands about one abnormal, and how it is found on the status topic. */
final class AbnormalName {
    @Parameters(paramLabel = "NAME", description = "The abnormal's name.")
    String name;

    @Option(names = {"-n", "--namespace"}, defaultValue = "default", description = "Its namespace (default: ${DEFAULT-VALUE}).")
    String namespace;

    /** The newest abnormal (by start time) of this namespace and name, waiting up to {@code wait} for one to appear. */
    Optional<AbnormalStatus> newest(KdiagClient client, Duration wait) {
        return client.awaitStatus(s -> s.getNamespace().equals(namespace) && s.getName().equals(name), wait);
    }

    /** kubectl's message when there is no such abnormal. */
    void reportNotFound(PrintWriter err) {
        err.printf("Error from server (NotFound): abnormals \"%s\" not found in namespace %s%n", name, namespace);
    }

    @Override
    public String toString() {
        return namespace + "/" + name;
    }
}
