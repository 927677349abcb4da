package io.kdiag.nodeagent.run;

import java.util.concurrent.CompletableFuture;

import io.kdiag.schemas.avro.DiagnosisEvent;

/** Where diagnosis events go: Kafka in the agent, a list in tests. */
public interface EventSink {
    /** Sends one event; the future completes when it is acknowledged, or exceptionally when it cannot be delivered. */
    CompletableFuture<Void> send(DiagnosisEvent event);

    /**
     * Sends what {@link #send} holds back to batch, without waiting for the rest of the batch window: called before
     * waiting for an acknowledgement, so batching never lengthens a wait.
     */
    void sendBatched();

    /** An event could not be delivered; the abnormal stays unfinished in the journal. */
    final class DeliveryException extends Exception {
        private static final long serialVersionUID = 1L;

        DeliveryException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
