package io.kdiag.statuswriter.fold;

import java.util.Map;

import io.kdiag.schemas.DeadLetters;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An event the status writer fails on (a defect of the fold, not a refusal, which the fold handles itself) is skipped
 * rather than failing the stream thread, which would fail again on the same event at every restart: logged, counted
 * and dead-lettered as it was read. A failure of Kafka Streams itself (a state store, say) still fails the thread.
 */
public final class DeadLetterProcessingHandler implements ProcessingExceptionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterProcessingHandler.class);

    private WriterDeadLetters deadLetters = WriterDeadLetters.from(Map.of());

    /** Created by Kafka Streams from {@code processing.exception.handler}. */
    public DeadLetterProcessingHandler() {
    }

    @Override
    public void configure(Map<String, ?> configs) {
        deadLetters = WriterDeadLetters.from(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        if (exception instanceof StreamsException) {
            return Response.fail();
        }
        LOG.error("record skipped: the status writer failed on it topic={} partition={} offset={} node={}", context.topic(),
                context.partition(), context.offset(), context.processorNodeId(), exception);
        deadLetters.count(WriterDeadLetters.PROCESSING_ERROR);
        if (context.sourceRawValue() == null) {
            return Response.resume(); // a punctuation, not a record: the next one tries again
        }
        return Response.resume(deadLetters.letter(new DeadLetters.Source(context.topic(), context.partition(), context.offset()),
                context.sourceRawKey(), context.sourceRawValue(), "the status writer failed on this record: " + exception,
                context.headers()));
    }
}
