package io.kdiag.schemas;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.SchemaStore;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The schemas topic ({@code <prefix>schemas}, compacted): every writer publishes the schemas it writes with before it
 * writes, and readers look up there the fingerprints their own jar does not know, so a reader built today reads the
 * records of a later version. Key: the 8 fingerprint bytes exactly as a record's header carries them, in hex; value:
 * the schema as JSON.
 *
 * <p>An entry is used only when its key is the fingerprint of its schema. Lookups of unknown fingerprints read the
 * topic at most once per {@code minRefreshInterval} (a record of a fingerprint nobody published, or garbage, costs one
 * read of a small topic, then nothing until the interval has passed); a schema once found is kept for the life of the
 * process. Each read opens a short-lived consumer, so an instance holds no connection and needs no closing.
 */
public final class SchemaTopicStore implements SchemaStore {
    /** How often at most a lookup of an unknown fingerprint reads the topic again. */
    public static final Duration DEFAULT_MIN_REFRESH_INTERVAL = Duration.ofSeconds(30);
    /** The most schemas one process keeps from the topic; a release adds a handful. */
    static final int MAX_SCHEMAS = 1024;
    private static final Logger LOG = LoggerFactory.getLogger(SchemaTopicStore.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(15);
    private static final HexFormat HEX = HexFormat.of();

    private final Map<String, Object> kafka;
    private final String topic;
    private final long minRefreshNanos;
    private final Map<Long, Schema> found = new ConcurrentHashMap<>();
    private boolean read;
    private long lastRead;

    /**
     * @param kafka Kafka client settings ({@code bootstrap.servers}, TLS, SASL, …)
     * @param topic the schemas topic, prefix included
     */
    public SchemaTopicStore(Map<String, Object> kafka, String topic) {
        this(kafka, topic, DEFAULT_MIN_REFRESH_INTERVAL);
    }

    /**
     * @param kafka Kafka client settings ({@code bootstrap.servers}, TLS, SASL, …)
     * @param topic the schemas topic, prefix included
     * @param minRefreshInterval how long after reading the topic a lookup of an unknown fingerprint reads it again
     */
    public SchemaTopicStore(Map<String, Object> kafka, String topic, Duration minRefreshInterval) {
        this.kafka = Map.copyOf(kafka);
        this.topic = topic;
        this.minRefreshNanos = minRefreshInterval.toNanos();
    }

    /** The key of a schema's entry: its fingerprint as the 8 little-endian bytes of a record's header, in hex. */
    public static String key(long fingerprint) {
        return HEX.toHexDigits(Long.reverseBytes(fingerprint));
    }

    /** The schema of a fingerprint, from what was read before or, at most once per interval, from the topic; else null. */
    @Override
    public Schema findByFingerprint(long fingerprint) {
        Schema schema = found.get(fingerprint);
        if (schema != null) {
            return schema;
        }
        synchronized (this) {
            schema = found.get(fingerprint);
            long now = System.nanoTime();
            if (schema != null || read && now - lastRead < minRefreshNanos) {
                return schema;
            }
            read = true;
            lastRead = now;
            try {
                readAll();
            } catch (KafkaException | IllegalStateException e) {
                LOG.warn("cannot read the schemas topic topic={} fingerprint={} reason={}", topic, key(fingerprint), e.getMessage());
            }
            return found.get(fingerprint);
        }
    }

    /**
     * Publishes the schemas that are not on the topic yet and waits until Kafka has them, so records written after this
     * returns are readable by anyone who can read the topic. Calling it again with the same schemas writes nothing.
     *
     * @throws IllegalStateException if the topic cannot be read or written
     */
    public synchronized void publish(Collection<Schema> schemas) {
        readAll();
        read = true;
        lastRead = System.nanoTime();
        List<Schema> missing = schemas.stream()
                .filter(s -> !found.containsKey(SchemaNormalization.parsingFingerprint64(s)))
                .toList();
        if (missing.isEmpty()) {
            return;
        }
        Map<String, Object> settings = new HashMap<>(kafka);
        settings.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(settings, new StringSerializer(), new StringSerializer())) {
            SendAndWait.sendAll(producer, missing.stream()
                    .map(s -> new ProducerRecord<>(topic, key(SchemaNormalization.parsingFingerprint64(s)), s.toString()))
                    .toList(), TIMEOUT);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot publish schemas to " + topic + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException | KafkaException e) {
            throw new IllegalStateException("cannot publish schemas to " + topic + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing schemas to " + topic, e);
        }
        missing.forEach(s -> found.put(SchemaNormalization.parsingFingerprint64(s), s));
        LOG.info("schemas published topic={} schemas={}", topic, missing.stream().map(Schema::getFullName).toList());
    }

    /** Reads the whole topic (it is small and compacted) and keeps every valid entry. */
    private void readAll() {
        Map<String, Object> settings = new HashMap<>(kafka);
        settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // a reader must never create the topic: a missing one means nothing was published
        settings.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        settings.remove(ConsumerConfig.GROUP_ID_CONFIG);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(settings, new StringDeserializer(), new StringDeserializer())) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, TIMEOUT);
            if (infos == null || infos.isEmpty()) {
                throw new IllegalStateException("topic " + topic + " does not exist");
            }
            List<TopicPartition> partitions = infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p, TIMEOUT) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read " + topic + " to its end within " + TIMEOUT.toSeconds() + " s");
                }
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    keep(record);
                }
            }
        }
    }

    private void keep(ConsumerRecord<String, String> record) {
        if (record.key() == null || record.value() == null || found.size() >= MAX_SCHEMAS) {
            return;
        }
        Schema schema;
        try {
            schema = new Schema.Parser().parse(record.value());
        } catch (AvroRuntimeException | IllegalArgumentException e) {
            LOG.warn("schema entry ignored: not a schema topic={} offset={} key={} reason={}", topic, record.offset(), record.key(),
                    e.getMessage());
            return;
        }
        long fingerprint = SchemaNormalization.parsingFingerprint64(schema);
        if (!key(fingerprint).equals(record.key())) {
            LOG.warn("schema entry ignored: its key is not its fingerprint topic={} offset={} key={} fingerprint={}", topic,
                    record.offset(), record.key(), key(fingerprint));
            return;
        }
        // the first entry of a fingerprint wins: one written later cannot replace a schema readers already use
        found.putIfAbsent(fingerprint, schema);
    }
}
