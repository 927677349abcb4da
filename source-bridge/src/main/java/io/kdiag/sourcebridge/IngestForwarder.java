package io.kdiag.sourcebridge;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import io.kdiag.schemas.DeadLetterHeaders;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ingest loop: reads {@code abnormal-requests}, forwards valid requests to {@code abnormals} keyed by node and
 * everything else to {@code dead-letters}, and commits the consumed offsets in the same transaction, so each record
 * is forwarded or dead-lettered exactly once even across crashes and restarts.
 *
 * <p>Runs on one thread, which owns both clients and closes them when it ends.
 */
final class IngestForwarder implements Runnable {
    static final String METRIC = "kdiag.bridge.ingest.records";
    private static final Logger LOG = LoggerFactory.getLogger(IngestForwarder.class);
    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration CLOSE = Duration.ofSeconds(10);
    private static final Outcome FORWARDED = new Outcome("forwarded", "none");

    private final Topics topics;
    private final Consumer<byte[], byte[]> consumer;
    private final Producer<byte[], byte[]> producer;
    private final IngestDecoder decoder = new IngestDecoder();
    private final RequestValidator validator = new RequestValidator();
    private final MeterRegistry registry;
    private final CompletableFuture<Void> consuming = new CompletableFuture<>();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private volatile boolean running = true;

    IngestForwarder(Topics topics, Consumer<byte[], byte[]> consumer, Producer<byte[], byte[]> producer, MeterRegistry registry) {
        this.topics = topics;
        this.consumer = consumer;
        this.producer = producer;
        this.registry = registry;
        count(FORWARDED, 0); // present from the start, so rate() has a baseline
    }

    /** Completes when the first partition assignment arrived, or exceptionally if the loop failed before. */
    CompletableFuture<Void> consuming() {
        return consuming;
    }

    /** Completes when the loop ended: normally after {@link #stop()}, exceptionally on a fatal error. */
    CompletableFuture<Void> stopped() {
        return stopped;
    }

    /** Asks the loop to end after the batch in hand; safe from any thread. */
    void stop() {
        running = false;
        consumer.wakeup();
    }

    @Override
    public void run() {
        Throwable failure = null;
        try {
            producer.initTransactions();
            consumer.subscribe(List.of(topics.abnormalRequests().name()), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    // nothing pending: every batch is committed before the next poll
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    LOG.info("reading {} partition(s) of {}", partitions.size(), topics.abnormalRequests().name());
                    consuming.complete(null);
                }
            });
            while (running) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
                if (!records.isEmpty()) {
                    forward(records);
                }
            }
        } catch (WakeupException e) {
            if (running) {
                failure = e;
            }
        } catch (RuntimeException | Error e) {
            failure = e;
        } finally {
            closeQuietly(consumer::close, "consumer");
            closeQuietly(() -> producer.close(CLOSE), "producer");
            if (failure == null) {
                LOG.info("ingest stopped");
                stopped.complete(null);
            } else {
                LOG.error("ingest failed and stopped: {}", failure.toString(), failure);
                consuming.completeExceptionally(failure);
                stopped.completeExceptionally(failure);
            }
        }
    }

    private void forward(ConsumerRecords<byte[], byte[]> records) {
        Map<Outcome, Integer> outcomes = new HashMap<>();
        producer.beginTransaction();
        try {
            for (ConsumerRecord<byte[], byte[]> record : records) {
                outcomes.merge(send(record), 1, Integer::sum);
            }
            producer.sendOffsetsToTransaction(nextOffsets(records), consumer.groupMetadata());
            producer.commitTransaction();
        } catch (ProducerFencedException | OutOfOrderSequenceException | UnsupportedVersionException
                 | AuthorizationException | AuthenticationException e) {
            throw e; // another instance took over, or the cluster refuses us: nothing to retry
        } catch (KafkaException e) {
            LOG.warn("transaction aborted, reading the batch again: {}", e.toString());
            producer.abortTransaction();
            rewind(records);
            return;
        }
        // counted only once committed, so a retried batch is not counted twice
        outcomes.forEach(this::count);
    }

    private void count(Outcome outcome, int records) {
        registry.counter(METRIC, "result", outcome.result(), "reason", outcome.reason()).increment(records);
    }

    /** Sends one record where it belongs. */
    private Outcome send(ConsumerRecord<byte[], byte[]> record) {
        IngestDecoder.Position position =
                new IngestDecoder.Position(record.topic(), record.partition(), record.offset(), record.timestamp());
        Refusal refusal;
        try {
            AbnormalRequest request = validator.validate(decoder.decode(position, record.value()));
            String abnormals = topics.abnormals().name();
            producer.send(new ProducerRecord<>(abnormals,
                    topics.abnormals().keySerde().serializer().serialize(abnormals, request.getNodeName()),
                    topics.abnormals().valueSerde().serializer().serialize(abnormals, request)));
            return FORWARDED;
        } catch (Refusal e) {
            refusal = e;
        } catch (RuntimeException e) {
            // a defect here must not turn one record into a poison pill that stops all ingest
            LOG.error("cannot process {}-{}@{}", record.topic(), record.partition(), record.offset(), e);
            refusal = new Refusal(Refusal.Kind.INTERNAL, "the bridge failed on this record: " + e);
        }
        LOG.info("dead-lettering {}-{}@{}: {}", record.topic(), record.partition(), record.offset(), refusal.getMessage());
        RecordHeaders headers = new RecordHeaders();
        headers.add(DeadLetterHeaders.SOURCE_TOPIC, utf8(record.topic()));
        headers.add(DeadLetterHeaders.SOURCE_PARTITION, utf8(String.valueOf(record.partition())));
        headers.add(DeadLetterHeaders.SOURCE_OFFSET, utf8(String.valueOf(record.offset())));
        headers.add(DeadLetterHeaders.REASON, utf8(refusal.getMessage()));
        producer.send(new ProducerRecord<>(topics.deadLetters().name(), null, record.key(), record.value(), headers));
        return new Outcome("dead-lettered", refusal.kind().tag());
    }

    private static Map<TopicPartition, OffsetAndMetadata> nextOffsets(ConsumerRecords<byte[], byte[]> records) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition partition : records.partitions()) {
            List<ConsumerRecord<byte[], byte[]>> batch = records.records(partition);
            ConsumerRecord<byte[], byte[]> last = batch.get(batch.size() - 1);
            offsets.put(partition, new OffsetAndMetadata(last.offset() + 1, last.leaderEpoch(), ""));
        }
        return offsets;
    }

    /** Puts the consumer back at the start of an aborted batch, for the partitions it still owns. */
    private void rewind(ConsumerRecords<byte[], byte[]> records) {
        for (TopicPartition partition : records.partitions()) {
            if (consumer.assignment().contains(partition)) {
                consumer.seek(partition, records.records(partition).get(0).offset());
            }
        }
    }

    /** Metric tags of a record's fate; reasons are {@link Refusal.Kind} tags, a bounded set. */
    private record Outcome(String result, String reason) {
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static void closeQuietly(Runnable close, String what) {
        try {
            close.run();
        } catch (RuntimeException e) {
            LOG.warn("closing the {} failed: {}", what, e.toString());
        }
    }
}
