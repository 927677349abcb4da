package io.kdiag.statuswriter.fold;

import java.util.Map;

import io.kdiag.schemas.DeadLetters;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A snapshot Kafka refuses to take never stops the stream thread: it is logged, counted and dead-lettered (its start,
 * its size and hash), and the fold goes on. The fold keeps snapshots within their budget, so this is the backstop for a
 * topic or broker that takes less than Kafka's default. A changelog record is another matter: skipping it would leave
 * the store and its changelog apart, so it fails as it would without this handler (the fold state's budget keeps it
 * from happening); so does every other error.
 */
public final class DeadLetterProductionHandler implements ProductionExceptionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterProductionHandler.class);

    private WriterDeadLetters deadLetters = WriterDeadLetters.from(Map.of());

    /** Created by Kafka Streams from {@code production.exception.handler}. */
    public DeadLetterProductionHandler() {
    }

    @Override
    public void configure(Map<String, ?> configs) {
        deadLetters = WriterDeadLetters.from(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
        boolean tooLarge = exception instanceof RecordTooLargeException || exception instanceof RecordBatchTooLargeException;
        if (!tooLarge || record.topic().endsWith("-changelog")) {
            LOG.error("cannot write topic={} bytes={}", record.topic(), size(record), exception);
            return Response.fail();
        }
        deadLetters.count(WriterDeadLetters.UNWRITABLE);
        if (record.topic().equals(deadLetters.topic())) {
            // the dead letter itself was refused (a dead-letter topic limited to a few KiB?): the log is all that is left
            LOG.error("dead letter refused by Kafka bytes={} reason={}", size(record), exception.toString());
            return Response.resume();
        }
        LOG.error("record not written: Kafka refused it as too large topic={} bytes={} reason={}", record.topic(), size(record),
                exception.toString());
        // a snapshot published by a punctuation has no record it was read from
        DeadLetters.Source source = context.topic() == null ? new DeadLetters.Source(record.topic(), -1, -1)
                : new DeadLetters.Source(context.topic(), context.partition(), context.offset());
        return Response.resume(deadLetters.letter(source,
                record.key(), record.value(), "Kafka refused this " + record.topic() + " record as too large (" + size(record)
                        + " bytes): " + exception.getMessage(), record.headers()));
    }

    private static int size(ProducerRecord<byte[], byte[]> record) {
        return record.value() == null ? 0 : record.value().length;
    }
}
