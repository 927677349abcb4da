package io.kdiag.nodeagent.kafka;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

import io.kdiag.nodeagent.run.EventSink;
import io.kdiag.schemas.DeadLetters;
import io.kdiag.schemas.Evidence;
import io.kdiag.schemas.SendAndWait;
import io.kdiag.schemas.Topic;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.stageworkers.spi.EvidenceStore;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's one Kafka producer, idempotent and acknowledged by every replica: diagnosis events, keyed by the node,
 * the evidence they reference, and the dead letters of records that cannot be read.
 */
public final class AgentProducer implements EventSink, EvidenceStore, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AgentProducer.class);
    /** Room left in a record for its key, headers and batch framing. */
    private static final int RECORD_OVERHEAD_BYTES = 4096;
    /** How long the chunks of one value may take to be acknowledged. */
    private static final Duration EVIDENCE_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration DEAD_LETTER_WAIT = Duration.ofSeconds(30);
    /** How long an event may wait for others to share its request. */
    private static final int EVENT_LINGER_MS = 5;

    private final KafkaProducer<byte[], byte[]> producer;
    private final Topics topics;
    private final String nodeName;
    private final byte[] key;
    private final int maxEventBytes;
    private final int maxRecordBytes;
    private final Runnable acknowledged;

    private AgentProducer(Map<String, Object> settings, Topics topics, String nodeName, Runnable acknowledged) {
        int maxRequestSize = Integer.parseInt(String.valueOf(settings.getOrDefault(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 1_048_576)));
        this.maxEventBytes = maxRequestSize - RECORD_OVERHEAD_BYTES;
        this.maxRecordBytes = DeadLetters.maxRecordBytes(settings);
        this.producer = new KafkaProducer<>(settings, new ByteArraySerializer(), new ByteArraySerializer());
        this.topics = topics;
        this.nodeName = nodeName;
        this.key = nodeName.getBytes(StandardCharsets.UTF_8);
        this.acknowledged = acknowledged;
    }

    /**
     * A producer with the user's Kafka settings and what the agent's guarantees need.
     *
     * @param acknowledged called on the producer's thread for each event acknowledged: the agent counts it as its loop's
     *     progress, so that a long abnormal keeps the loop alive without a poll
     */
    public static AgentProducer create(Map<String, Object> kafka, String nodeName, Topics topics, Runnable acknowledged) {
        return new AgentProducer(properties(kafka, nodeName), topics, nodeName, acknowledged);
    }

    /** The producer's settings: the user's Kafka settings, with what the agent's guarantees need. */
    static Map<String, Object> properties(Map<String, Object> kafka, String nodeName) {
        Map<String, Object> props = new HashMap<>(kafka);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "kdiag-node-agent-" + nodeName);
        // the events of an abnormal between two waits (a recoverer's start, its end) go as one request instead of one
        // each; a wait sends at once (sendBatched), so the linger only delays events nobody waits for
        props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, EVENT_LINGER_MS);
        return props;
    }

    /** The largest encoded event a record takes: {@code max.request.size} less room for key, headers and framing. */
    public int maxEventBytes() {
        return maxEventBytes;
    }

    @Override
    public CompletableFuture<Void> send(DiagnosisEvent event) {
        Topic<String, DiagnosisEvent> topic = topics.diagnosisEvents();
        CompletableFuture<Void> acked = new CompletableFuture<>();
        producer.send(new ProducerRecord<>(topic.name(), key, topic.valueSerde().serializer().serialize(topic.name(), event)),
                (metadata, error) -> {
                    if (error == null) {
                        acknowledged.run();
                        acked.complete(null);
                    } else {
                        acked.completeExceptionally(error);
                    }
                });
        return acked;
    }

    /** Blocks until everything sent is acknowledged or failed: the caller waits for one of them anyway. */
    @Override
    public void sendBatched() {
        producer.flush();
    }

    @Override
    public Evidence.Reference store(byte[] content, String contentType) throws IOException {
        return Evidence.write(producer, topics.evidence().name(), content, contentType, EVIDENCE_TIMEOUT);
    }

    /**
     * Sends a record that runs nothing (refused, unreadable, too large) to the dead-letter topic and waits for it. A copy
     * Kafka refuses for its size is written again with less of the original: first its start, then nothing of it but
     * its size and hash.
     *
     * @return {@code false} when Kafka could not be reached (the record is to be read again later); {@code true} once
     *     written, or when Kafka refused even the smallest copy, which is logged as an error
     */
    boolean deadLetter(ConsumerRecord<byte[], byte[]> record, String reason) throws InterruptedException {
        LOG.warn("abnormal not run node={} offset={} reason={}", nodeName, record.offset(), reason);
        for (int budget : new int[] {maxRecordBytes, DeadLetters.PREFIX_ONLY_BYTES, DeadLetters.HEADERS_ONLY_BYTES}) {
            ProducerRecord<byte[], byte[]> letter = DeadLetters.of(topics.deadLetters().name(),
                    new DeadLetters.Source(record.topic(), record.partition(), record.offset()),
                    record.key(), record.value(), reason, budget);
            try {
                SendAndWait.send(producer, letter, DEAD_LETTER_WAIT);
                return true;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof RecordTooLargeException)) {
                    LOG.warn("dead letter not delivered, reading the record again later node={} offset={} error={}", nodeName,
                            record.offset(), e.getCause().toString());
                    return false;
                }
            } catch (TimeoutException e) {
                LOG.warn("dead letter not delivered within {} s, reading the record again later node={} offset={}",
                        DEAD_LETTER_WAIT.toSeconds(), nodeName, record.offset());
                return false;
            }
        }
        LOG.error("dead letter refused by Kafka even without the original's value node={} offset={} bytes={} reason={}", nodeName,
                record.offset(), record.value() == null ? 0 : record.value().length, reason);
        return true;
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
