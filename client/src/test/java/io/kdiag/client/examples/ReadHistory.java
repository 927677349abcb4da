package io.kdiag.client.examples;

import java.util.List;

import io.kdiag.client.KdiagClient;
import io.kdiag.schemas.avro.DiagnosisEvent;

/** Print every recorded step of one abnormal. Usage: BOOTSTRAP_SERVERS UID */
public final class ReadHistory {
    private ReadHistory() {
    }

    /** Runs the example. */
    public static void main(String[] args) {
        try (KdiagClient kdiag = KdiagClient.builder().bootstrapServers(args[0]).build()) {
            run(kdiag, args[1]).forEach(System.out::println);
        }
    }

    /** One line per event: seq, time and what happened. */
    public static List<String> run(KdiagClient kdiag, String uid) {
        return kdiag.history(uid).stream()
                .map((DiagnosisEvent e) -> e.getSeq() + " " + e.getTime() + " " + e.getPayload().getClass().getSimpleName())
                .toList();
    }
}
