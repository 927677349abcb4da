package io.kdiag.statuswriter;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import io.kdiag.schemas.DeadLetterHeaders;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Skips a record that cannot be decoded instead of stopping the application: logs it, and copies it unchanged to
 * the dead-letter topic with headers naming its source and the reason. Kafka Streams counts the skip in its
 * {@code dropped-records-total} task metric.
 */
public final class DeadLetterDeserializationHandler implements DeserializationExceptionHandler {
    /** Streams property naming the dead-letter topic; without it undecodable records are only logged. */
    public static final String DEAD_LETTER_TOPIC_CONFIG = "kdiag.dead-letter-topic";
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterDeserializationHandler.class);

    private String deadLetterTopic;

    /** Created by Kafka Streams from {@code default.deserialization.exception.handler}. */
    public DeadLetterDeserializationHandler() {
    }

    @Override
    public void configure(Map<String, ?> configs) {
        Object topic = configs.get(DEAD_LETTER_TOPIC_CONFIG);
        deadLetterTopic = topic == null ? null : topic.toString();
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        LOG.warn("record skipped: cannot deserialize topic={} partition={} offset={} reason={}", record.topic(),
                record.partition(), record.offset(), exception.getMessage());
        if (deadLetterTopic == null) {
            return Response.resume();
        }
        RecordHeaders headers = new RecordHeaders(record.headers().toArray());
        headers.add(DeadLetterHeaders.SOURCE_TOPIC, utf8(record.topic()));
        headers.add(DeadLetterHeaders.SOURCE_PARTITION, utf8(String.valueOf(record.partition())));
        headers.add(DeadLetterHeaders.SOURCE_OFFSET, utf8(String.valueOf(record.offset())));
        headers.add(DeadLetterHeaders.REASON, utf8(String.valueOf(exception.getMessage())));
        return Response.resume(List.of(new ProducerRecord<>(deadLetterTopic, null, record.key(), record.value(), headers)));
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
