package io.kdiag.statuswriter.fold;

import java.util.List;
import java.util.Map;

import io.kdiag.schemas.DeadLetters;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Skips a record that cannot be decoded instead of stopping the application: logs it, and copies it (cut to fit, see
 * {@link DeadLetters}) to the dead-letter topic with headers naming its source and the reason. Kafka Streams counts the skip in its
 * {@code dropped-records-total} task metric.
 */
public final class DeadLetterDeserializationHandler implements DeserializationExceptionHandler {
    /** Streams property naming the dead-letter topic; without it undecodable records are only logged. */
    public static final String DEAD_LETTER_TOPIC_CONFIG = "kdiag.dead-letter-topic";
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterDeserializationHandler.class);

    private String deadLetterTopic;
    private int maxRecordBytes = DeadLetters.DEFAULT_MAX_RECORD_BYTES;

    /** Created by Kafka Streams from {@code default.deserialization.exception.handler}. */
    public DeadLetterDeserializationHandler() {
    }

    @Override
    public void configure(Map<String, ?> configs) {
        Object topic = configs.get(DEAD_LETTER_TOPIC_CONFIG);
        deadLetterTopic = topic == null ? null : topic.toString();
        Object producerMax = configs.get(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG));
        maxRecordBytes = DeadLetters.maxRecordBytes(producerMax == null ? configs
                : Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, producerMax));
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        LOG.warn("record skipped: cannot deserialize topic={} partition={} offset={} reason={}", record.topic(),
                record.partition(), record.offset(), exception.getMessage());
        if (deadLetterTopic == null) {
            return Response.resume();
        }
        return Response.resume(List.of(DeadLetters.of(deadLetterTopic, new DeadLetters.Source(record.topic(), record.partition(),
                record.offset()), record.key(), record.value(), String.valueOf(exception.getMessage()),
                maxRecordBytes, new RecordHeaders(record.headers().toArray()))));
    }
}
