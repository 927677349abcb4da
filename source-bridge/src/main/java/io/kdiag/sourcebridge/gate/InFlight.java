package io.kdiag.sourcebridge.gate;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;

/**
 * The gate's batches that Kafka has not acknowledged whole yet, oldest first, so that the gate sends the next batch
 * without waiting for the last. A batch goes through two steps: its records (forwards, dead letters, storm ledger
 * records) are acknowledged; then its dedup entries are written to the state topic, so a persisted entry always names
 * a request that is on the topic (an entry before its forward would lose the request to a crash between them). A batch
 * whose entries are acknowledged too is finished; finished batches leave strictly in order, so whatever the gate does
 * at the end of a batch (committing its ingest offsets, completing verdicts) never passes an earlier, unfinished one. A
 * record Kafka refuses for its size holds its batch until the gate wrote its owner again, smaller; any other failed
 * send undoes its batch and every later one.
 *
 * <p>The dedup entries count from the moment they are sent: {@link #lastForwarded} sees them at once, so a duplicate in
 * a later batch is suppressed even while the first is in flight. Used by the gate thread; only the producer's
 * acknowledgements arrive on another.
 *
 * @param <W> what the gate keeps of each batch
 */
final class InFlight<W> {
    private final Producer<byte[], byte[]> producer;
    private final BridgeState state;
    private final int maxBatches;
    private final Runnable toSettle;
    private final Deque<Batch<W>> batches = new ArrayDeque<>();
    /** The dedup entries of the batches in flight: when each key was forwarded, newest batch winning. */
    private final Map<String, Long> sentEntries = new HashMap<>();
    /** Guards each batch's acknowledgement count and failure, which the producer's thread updates. */
    private final Object acknowledgements = new Object();

    /** @param toSettle called on the producer's thread when a batch has something for {@link #settle} to do */
    InFlight(Producer<byte[], byte[]> producer, BridgeState state, int maxBatches, Runnable toSettle) {
        this.producer = producer;
        this.state = state;
        this.maxBatches = maxBatches;
        this.toSettle = toSettle;
    }

    /** A batch that ended in a failed send, with every later one, oldest first: none of their effects is to be kept. */
    record Failure<W>(List<W> undone, Exception cause) {
    }

    /** One poll's worth of work on its way. */
    static final class Batch<W> {
        private final W work;
        private final Map<String, Long> entries = new LinkedHashMap<>();
        private final Set<Object> refusedForSize = new HashSet<>();
        private int unacknowledged;
        private Exception failure;
        private boolean entriesSent;

        private Batch(W work) {
            this.work = work;
        }

        W work() {
            return work;
        }
    }

    /** Starts a batch, after every other. */
    Batch<W> open(W work) {
        Batch<W> batch = new Batch<>(work);
        batches.addLast(batch);
        return batch;
    }

    boolean isEmpty() {
        return batches.isEmpty();
    }

    /** Whether the gate should wait for acknowledgements before it takes more work: what a slow broker may cost in memory. */
    boolean full() {
        return batches.size() >= maxBatches;
    }

    /** Sends a record of {@code batch} written for {@code owner} (the ingest record or submission it belongs to). */
    void send(Batch<W> batch, Object owner, ProducerRecord<byte[], byte[]> record) {
        synchronized (acknowledgements) {
            batch.unacknowledged++;
        }
        producer.send(record, (metadata, error) -> {
            boolean settleable;
            synchronized (acknowledgements) {
                batch.unacknowledged--;
                if (error instanceof RecordTooLargeException || error instanceof RecordBatchTooLargeException) {
                    batch.refusedForSize.add(owner);
                } else if (error != null && batch.failure == null) {
                    batch.failure = error;
                }
                // the batch's last send (its entries to send, or it finished, or refusals to rewrite), or one to undo
                settleable = batch.unacknowledged == 0 || batch.failure != null;
                acknowledgements.notifyAll();
            }
            if (settleable) {
                toSettle.run();
            }
        });
    }

    /** Counts {@code key} as forwarded at {@code now} from this moment; its entry is written once the batch's records are acknowledged. */
    void remember(Batch<W> batch, String key, long now) {
        batch.entries.put(key, now);
        sentEntries.put(key, now);
    }

    /** Forgets entries of {@code batch} taken back before they were written: their owner was not forwarded after all. */
    void forget(Batch<W> batch, List<String> keys) {
        keys.forEach(batch.entries::remove);
        rebuildSentEntries();
    }

    /** When {@code key} was last forwarded, counting what is in flight, or {@code null}. */
    Long lastForwarded(String key) {
        Long sent = sentEntries.get(key);
        return sent != null ? sent : state.lastForwarded(key);
    }

    /** Waits up to {@code timeout} for an acknowledgement, unless the oldest batch has none outstanding already. */
    void awaitProgress(Duration timeout) throws InterruptedException {
        synchronized (acknowledgements) {
            Batch<W> oldest = batches.peekFirst();
            if (oldest != null && oldest.unacknowledged > 0) {
                acknowledgements.wait(Math.max(1, timeout.toMillis()));
            }
        }
    }

    /**
     * Moves the batches on without waiting: hands each finished batch at the head to {@code finished}, oldest first, and
     * sends the dedup entries of each batch whose records are all acknowledged (in batch order, so a key's entries reach
     * the compacted topic in the order they were taken). The owners of records refused for their size go to
     * {@code rewrite}, once the rest of their batch is acknowledged, to be written again smaller in the same batch. When
     * a batch has another failed send, it and every later batch are taken out, their dedup entries forgotten, and
     * returned.
     *
     * @return the failure, or {@code null}
     */
    Failure<W> settle(Consumer<W> finished, BiConsumer<W, Set<Object>> rewrite) {
        while (!batches.isEmpty() && finished(batches.peekFirst())) {
            Batch<W> batch = batches.removeFirst();
            state.written(batch.entries);
            batch.entries.forEach(sentEntries::remove);
            finished.accept(batch.work);
        }
        boolean earlierEntriesUnsent = false;
        for (Batch<W> batch : batches) {
            int unacknowledged;
            Exception failure;
            Set<Object> refused = new HashSet<>();
            synchronized (acknowledgements) {
                unacknowledged = batch.unacknowledged;
                failure = batch.failure;
                if (unacknowledged == 0 && failure == null) {
                    refused.addAll(batch.refusedForSize);
                    batch.refusedForSize.clear();
                }
            }
            if (failure != null) {
                return undoFrom(batch);
            }
            if (!refused.isEmpty()) {
                rewrite.accept(batch.work, refused);
                earlierEntriesUnsent = true;
                continue;
            }
            if (!batch.entriesSent && unacknowledged == 0 && !earlierEntriesUnsent) {
                batch.entriesSent = true;
                batch.entries.forEach((key, at) ->
                        send(batch, key, new ProducerRecord<>(state.topic(), state.recordKey(key), BridgeState.recordValue(at))));
            }
            earlierEntriesUnsent |= !batch.entriesSent;
        }
        return null;
    }

    /** Waits until every batch finished (handed to {@code finished}) or one failed (returned, as {@link #settle}). */
    Failure<W> flush(Consumer<W> finished, BiConsumer<W, Set<Object>> rewrite) {
        while (true) {
            Failure<W> failure = settle(finished, rewrite);
            if (failure != null || batches.isEmpty()) {
                return failure;
            }
            producer.flush();
        }
    }

    /** Takes out every batch, finished or not, when the gate stops: what they hold is not to be counted as done. */
    List<W> abandon() {
        List<W> abandoned = batches.stream().map(Batch::work).toList();
        batches.clear();
        sentEntries.clear();
        return abandoned;
    }

    private boolean finished(Batch<W> batch) {
        synchronized (acknowledgements) {
            return batch.entriesSent && batch.unacknowledged == 0 && batch.failure == null && batch.refusedForSize.isEmpty();
        }
    }

    private Failure<W> undoFrom(Batch<W> failed) {
        List<W> undone = new ArrayList<>();
        Exception cause;
        synchronized (acknowledgements) {
            cause = failed.failure;
        }
        Batch<W> last;
        do {
            last = batches.removeLast();
            undone.add(0, last.work);
        } while (last != failed);
        rebuildSentEntries();
        return new Failure<>(undone, cause);
    }

    /** What the batches still in flight sent stays remembered, the newest batch's entry of a key winning. */
    private void rebuildSentEntries() {
        sentEntries.clear();
        batches.forEach(batch -> sentEntries.putAll(batch.entries));
    }
}
