package io.kdiag.schemas;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Sends records and blocks until Kafka acknowledged them: the one way for code that cannot go on before its records are
 * written. It flushes after sending, because a producer holds records back for its {@code linger.ms} (the agent's
 * events linger, and a user may set a linger on any client), and a caller that waits would otherwise wait out the
 * linger too. Forcing a linger of 0 on such producers instead would not do: the agent's one producer also carries the
 * events that are meant to linger. The flush sends everything the producer holds, other threads' records included, and
 * returns once they are acknowledged or failed (within the producer's {@code delivery.timeout.ms}).
 */
public final class SendAndWait {
    private SendAndWait() {
    }

    /**
     * Sends one record and waits for its acknowledgement.
     *
     * @throws ExecutionException if Kafka refused the record (the cause says why)
     * @throws TimeoutException if it was not acknowledged within {@code timeout} after the flush
     */
    public static <K, V> RecordMetadata send(Producer<K, V> producer, ProducerRecord<K, V> record, Duration timeout)
            throws ExecutionException, TimeoutException, InterruptedException {
        return sendAll(producer, List.of(record), timeout).get(0);
    }

    /**
     * Sends the records in order and waits for all of their acknowledgements, in the same order. The records are taken
     * one at a time, so an iterable that makes each on demand holds no more than one in memory.
     *
     * @throws ExecutionException if Kafka refused a record (the cause says why)
     * @throws TimeoutException if they were not all acknowledged within {@code timeout} after the flush
     */
    public static <K, V> List<RecordMetadata> sendAll(Producer<K, V> producer, Iterable<ProducerRecord<K, V>> records, Duration timeout)
            throws ExecutionException, TimeoutException, InterruptedException {
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (ProducerRecord<K, V> record : records) {
            sent.add(producer.send(record));
        }
        producer.flush();
        long deadline = System.nanoTime() + timeout.toNanos();
        List<RecordMetadata> acknowledged = new ArrayList<>(sent.size());
        for (Future<RecordMetadata> future : sent) {
            acknowledged.add(future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
        }
        return acknowledged;
    }
}
