package io.kdiag.statuswriter.fold;

import java.util.Map;

import io.kdiag.schemas.DeadLetters;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Skips a record that cannot be decoded instead of stopping the application: logs it, counts it, and copies it (cut to
 * fit) to the dead-letter topic with headers naming its source and the reason; see {@link WriterDeadLetters}.
 */
public final class DeadLetterDeserializationHandler implements DeserializationExceptionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterDeserializationHandler.class);

    private WriterDeadLetters deadLetters = WriterDeadLetters.from(Map.of());

    /** Created by Kafka Streams from {@code deserialization.exception.handler}. */
    public DeadLetterDeserializationHandler() {
    }

    @Override
    public void configure(Map<String, ?> configs) {
        deadLetters = WriterDeadLetters.from(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        LOG.warn("record skipped: cannot deserialize topic={} partition={} offset={} reason={}", record.topic(),
                record.partition(), record.offset(), exception.getMessage());
        deadLetters.count(WriterDeadLetters.UNDECODABLE);
        return Response.resume(deadLetters.letter(new DeadLetters.Source(record.topic(), record.partition(), record.offset()),
                record.key(), record.value(), String.valueOf(exception.getMessage()), record.headers()));
    }
}
