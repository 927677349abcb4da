package io.kdiag.cli;

import java.time.Duration;
import java.util.Optional;

import io.kdiag.client.KdiagClient;
import io.kdiag.schemas.avro.AbnormalStatus;

/** Finds abnormals by name on the status topic. */
final class Abnormals {
    private Abnormals() {
    }

    /** The newest abnormal (by start time) with this namespace and name, waiting up to {@code wait} for one to appear. */
    static Optional<AbnormalStatus> newest(KdiagClient client, String namespace, String name, Duration wait) {
        return client.awaitStatus(s -> s.getNamespace().equals(namespace) && s.getName().equals(name), wait);
    }
}
