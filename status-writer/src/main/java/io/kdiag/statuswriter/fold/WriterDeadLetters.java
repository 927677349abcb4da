package io.kdiag.statuswriter.fold;

import java.util.List;
import java.util.Map;

import io.kdiag.schemas.DeadLetters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Where everything the status writer gives up on goes, and its count: a dead letter (cut to fit, see
 * {@link DeadLetters}; none for a tombstone, which holds nothing) and {@code kdiag_status_writer_given_up_total{reason}},
 * beside the log line of whoever gave it up. The fold's refusals, the three Kafka Streams error handlers and the topology all go through it; the handlers,
 * which Kafka Streams creates, find it in their configuration.
 */
public final class WriterDeadLetters {
    /** Streams property naming the dead-letter topic; without it records given up are only logged and counted. */
    public static final String TOPIC_CONFIG = "kdiag.dead-letter-topic";
    /** Streams property holding the {@link MeterRegistry} the count goes to; without it nothing is counted. */
    public static final String REGISTRY_CONFIG = "kdiag.meter-registry";
    /** The counter: {@code kdiag_status_writer_given_up_total{reason}}. */
    public static final String METRIC = "kdiag.status.writer.given.up";
    /** An empty record on the events topic: nothing to fold, nothing to copy. */
    public static final String TOMBSTONE = "tombstone";
    /** An event that is not a record of the events topic. */
    public static final String UNDECODABLE = "undecodable";
    /** An event the fold refuses (seq 0 that is not Accepted, context updates that are not a JSON object). */
    public static final String REFUSED = "refused";
    /** An event pushed out of the out-of-order buffer. */
    public static final String OVERFLOW = "overflow";
    /** An event the writer failed on (a defect). */
    public static final String PROCESSING_ERROR = "processing-error";
    /** A record Kafka refused to take (too large). */
    public static final String UNWRITABLE = "unwritable";

    private final String topic;
    private final int maxRecordBytes;
    private final MeterRegistry registry;

    WriterDeadLetters(String topic, int maxRecordBytes, MeterRegistry registry) {
        this.topic = topic;
        this.maxRecordBytes = maxRecordBytes;
        this.registry = registry;
        if (registry != null) {
            // every reason at zero from the start, so that rate() and alerts have a series before the first
            for (String reason : List.of(UNDECODABLE, TOMBSTONE, REFUSED, OVERFLOW, PROCESSING_ERROR, UNWRITABLE)) {
                counter(reason);
            }
        }
    }

    /** The dead letters of a Kafka Streams configuration (the handlers' {@code configure}), and of the writer itself. */
    public static WriterDeadLetters from(Map<?, ?> configs) {
        Object topic = configs.get(TOPIC_CONFIG);
        Object producerMax = configs.get(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG));
        if (producerMax == null) {
            producerMax = configs.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        }
        int maxRecordBytes = DeadLetters.maxRecordBytes(producerMax == null ? Map.of() : Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, producerMax));
        return new WriterDeadLetters(topic == null ? null : topic.toString(), maxRecordBytes,
                configs.get(REGISTRY_CONFIG) instanceof MeterRegistry registry ? registry : null);
    }

    /** The dead-letter topic, or {@code null} when there is none. */
    String topic() {
        return topic;
    }

    /** Counts one record given up for {@code reason}. */
    void count(String reason) {
        if (registry != null) {
            counter(reason).increment();
        }
    }

    private Counter counter(String reason) {
        return Counter.builder(METRIC).description("Records the status writer gave up on, by reason; all but tombstones are dead-lettered")
                .tag("reason", reason).register(registry);
    }

    /** The dead letter of a record, or none when there is no dead-letter topic; {@code headers} are the original's. */
    List<ProducerRecord<byte[], byte[]>> letter(DeadLetters.Source source, byte[] key, byte[] value, String reason, Headers headers) {
        if (topic == null) {
            return List.of();
        }
        return List.of(DeadLetters.of(topic, source, key, value, reason, maxRecordBytes,
                new RecordHeaders(headers == null ? new Header[0] : headers.toArray())));
    }
}
