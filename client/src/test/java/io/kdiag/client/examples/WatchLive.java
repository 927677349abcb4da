package io.kdiag.client.examples;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import io.kdiag.client.EventWatch;
import io.kdiag.client.KdiagClient;
import io.kdiag.schemas.avro.AbnormalFailed;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageOutcome;

/** Follow one abnormal's events as they happen, until it ended. Usage: BOOTSTRAP_SERVERS UID */
public final class WatchLive {
    private WatchLive() {
    }

    /** Runs the example. */
    public static void main(String[] args) throws InterruptedException {
        try (KdiagClient kdiag = KdiagClient.builder().bootstrapServers(args[0]).build()) {
            run(kdiag, args[1], System.out::println, Duration.ofMinutes(10));
        }
    }

    /**
     * Passes each event to {@code print} until the abnormal ended: its recovery finished, or a stage or the abnormal
     * failed (or the timeout passed).
     *
     * @return whether it ended within the timeout
     */
    public static boolean run(KdiagClient kdiag, String uid, Consumer<DiagnosisEvent> print, Duration timeout) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        try (EventWatch watch = kdiag.watch(uid, event -> {
            print.accept(event);
            Object step = event.getPayload();
            if (step instanceof AbnormalFailed
                    || step instanceof StageFinished f && (f.getStage() == Stage.Recovery || f.getOutcome() == StageOutcome.Failed)) {
                done.countDown();
            }
        })) {
            return done.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
    }
}
