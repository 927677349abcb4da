package io.kdiag.client.examples;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.client.KdiagClient;
import io.kdiag.schemas.avro.AbnormalStatus;

/** Publish an Abnormal to the ingest topic and wait for its final status. Usage: BOOTSTRAP_SERVERS MANIFEST.yaml */
public final class PublishAndAwait {
    private PublishAndAwait() {
    }

    /** Runs the example. */
    public static void main(String[] args) throws Exception {
        Abnormal abnormal = ApiSerialization.abnormal(Files.readString(Path.of(args[1])));
        try (KdiagClient kdiag = KdiagClient.builder().bootstrapServers(args[0]).build()) {
            AbnormalStatus status = run(kdiag, abnormal);
            System.out.println(status.getName() + " ended " + status.getPhase());
        }
    }

    /** Publishes and waits up to two minutes. */
    public static AbnormalStatus run(KdiagClient kdiag, Abnormal abnormal) {
        String uid = kdiag.publish(abnormal);
        return kdiag.awaitFinalStatus(uid, Duration.ofMinutes(2))
                .orElseThrow(() -> new IllegalStateException(uid + " did not finish within two minutes"));
    }
}
