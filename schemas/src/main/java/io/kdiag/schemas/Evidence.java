package io.kdiag.schemas;

import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Evidence too large for its event, kept where the history is: on the evidence topic ({@code <prefix>evidence}, the
 * retention of the events topic), in chunks of at most {@value #CHUNK_BYTES} bytes keyed by the SHA-256 of the whole
 * value, written and acknowledged before the event that references it. The event's context holds a {@link Reference}
 * instead of the value: the partition and the offset of each chunk, so readers fetch the chunks directly, and the hash
 * and size, so they check what they fetched.
 */
public final class Evidence {
    /** The largest chunk: half of Kafka's default record size, leaving room for the key, headers and batch framing. */
    public static final int CHUNK_BYTES = 512 * 1024;
    /** The largest value any reader accepts: an agent never keeps more of one processor's output. */
    public static final long MAX_VALUE_BYTES = 64L * 1024 * 1024;
    /** Header of each chunk: {@code <index>/<count>}. */
    public static final String CHUNK_HEADER = "kdiag.evidence.chunk";
    /**
     * Header of each chunk: the value's media type as its writer declared it. A reader refuses a reference that names
     * another, so a URL cannot have a value served as a type its writer did not give it (JSON as HTML, say).
     */
    public static final String CONTENT_TYPE_HEADER = "kdiag.evidence.content-type";
    /** The type of chunks written before {@link #CONTENT_TYPE_HEADER} existed: they were all context values. */
    public static final String JSON = "application/json";
    /** Where the status writer serves evidence; a reference's {@link Reference#path()} is relative to it. */
    public static final String SERVED_AT = "/api/v1/evidence/";
    /** The member of a context value that marks it as a reference. */
    static final String MARKER = "evidence";
    private static final HexFormat HEX = HexFormat.of();

    private Evidence() {
    }

    /**
     * Where a value is and what it is.
     *
     * @param topic the evidence topic
     * @param partition its partition holding every chunk (they share the key)
     * @param offsets the offset of each chunk, in order
     * @param sha256 the SHA-256 of the whole value, in lowercase hex; also every chunk's key
     * @param bytes the value's size
     * @param contentType its media type, e.g. {@code application/json}
     */
    public record Reference(String topic, int partition, List<Long> offsets, String sha256, long bytes, String contentType) {
        /** @throws IllegalArgumentException for a reference no writer makes */
        public Reference {
            if (topic == null || topic.isBlank() || partition < 0 || contentType == null || contentType.isBlank()) {
                throw new IllegalArgumentException("an evidence reference needs a topic, a partition and a content type");
            }
            if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException("not a SHA-256 in lowercase hex: " + sha256);
            }
            if (bytes < 0 || bytes > MAX_VALUE_BYTES) {
                throw new IllegalArgumentException("evidence of " + bytes + " bytes: more than the " + MAX_VALUE_BYTES + " any writer keeps");
            }
            offsets = List.copyOf(offsets);
            if (offsets.size() != chunks(bytes) || offsets.stream().anyMatch(o -> o == null || o < 0)) {
                throw new IllegalArgumentException("a value of " + bytes + " bytes has " + chunks(bytes) + " chunk(s), not " + offsets.size());
            }
        }

        /** What the context holds in place of the value: {@code {"evidence": {topic, partition, offsets, sha256, bytes, contentType}}}. */
        public Map<String, Object> toContextValue() {
            Map<String, Object> evidence = new LinkedHashMap<>();
            evidence.put("sha256", sha256);
            evidence.put("bytes", bytes);
            evidence.put("contentType", contentType);
            evidence.put("topic", topic);
            evidence.put("partition", partition);
            evidence.put("offsets", offsets);
            return Map.of(MARKER, evidence);
        }

        /**
         * Where the status writer serves the value, relative to {@link #SERVED_AT}:
         * {@code <sha256>?partition=P&offsets=O1,O2&bytes=N&type=T}. Relative, so a page served there links to another
         * value whatever prefix a proxy adds, and a recorded URL names no host that may change during the retention.
         */
        public String path() {
            return sha256 + "?partition=" + partition + "&offsets=" + offsets.stream().map(String::valueOf).collect(Collectors.joining(","))
                    + "&bytes=" + bytes + "&type=" + URLEncoder.encode(contentType, StandardCharsets.UTF_8);
        }

        /**
         * The reference of a URL path the status writer serves, {@link #SERVED_AT}{@link #path()} (a profile's endpoint).
         *
         * @throws IllegalArgumentException for anything else
         */
        public static Reference fromServedPath(String topic, String served) {
            int query = served.indexOf('?');
            if (!served.startsWith(SERVED_AT) || query < 0) {
                throw new IllegalArgumentException("not an evidence path " + SERVED_AT + "SHA256?...: " + served);
            }
            Map<String, String> params = new HashMap<>();
            for (String pair : served.substring(query + 1).split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    params.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
            return fromPath(topic, served.substring(SERVED_AT.length(), query), params);
        }

        /**
         * The reference a {@link #path()} stands for, from its parts; {@code type} defaults to {@value #JSON}.
         *
         * @param query the decoded query parameters
         * @throws IllegalArgumentException for parts no writer makes
         */
        public static Reference fromPath(String topic, String sha256, Map<String, String> query) {
            List<Long> offsets = Arrays.stream(query.getOrDefault("offsets", "").split(",")).map(Long::parseLong).toList();
            return new Reference(topic, Integer.parseInt(query.getOrDefault("partition", "")), offsets, sha256,
                    Long.parseLong(query.getOrDefault("bytes", "")), query.getOrDefault("type", JSON));
        }

        /**
         * The reference a context value is, if it is one: an object whose only member is {@code evidence}.
         *
         * @throws IllegalArgumentException when it has that shape but is not a valid reference
         */
        public static Optional<Reference> fromContextValue(Object value) {
            if (!(value instanceof Map<?, ?> map) || map.size() != 1 || !(map.get(MARKER) instanceof Map<?, ?> evidence)) {
                return Optional.empty();
            }
            try {
                List<Long> offsets = new ArrayList<>();
                for (Object offset : (List<?>) evidence.get("offsets")) {
                    offsets.add(((Number) offset).longValue());
                }
                return Optional.of(new Reference((String) evidence.get("topic"), ((Number) evidence.get("partition")).intValue(), offsets,
                        (String) evidence.get("sha256"), ((Number) evidence.get("bytes")).longValue(), (String) evidence.get("contentType")));
            } catch (ClassCastException | NullPointerException e) {
                throw new IllegalArgumentException("a malformed evidence reference: " + value, e);
            }
        }
    }

    /** Receives the chunks of a value in order. */
    @FunctionalInterface
    public interface ChunkSink {
        /** One chunk; the last one only once the whole value matched its hash. */
        void accept(byte[] chunk) throws IOException;
    }

    /** Reads the evidence of one installation, each value with a consumer of its own (no group, nothing committed). */
    public static final class Reader {
        private final Map<String, Object> kafka;
        private final String topic;
        private final Duration timeout;

        /**
         * @param kafka Kafka client settings
         * @param topic the installation's evidence topic; references to any other are refused
         * @param timeout how long reading one value may take
         */
        public Reader(Map<String, Object> kafka, String topic, Duration timeout) {
            Map<String, Object> settings = new HashMap<>(kafka);
            settings.remove(ConsumerConfig.GROUP_ID_CONFIG);
            settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            // a chunk past retention is an error to report, not a reason to read from elsewhere
            settings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
            settings.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
            this.kafka = Map.copyOf(settings);
            this.topic = topic;
            this.timeout = timeout;
        }

        /** The evidence topic. */
        public String topic() {
            return topic;
        }

        /** Reads a value chunk by chunk ({@link Evidence#read}). */
        public void read(Reference reference, ChunkSink sink) throws IOException {
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(kafka, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                Evidence.read(consumer, topic, reference, timeout, sink);
            } catch (KafkaException e) {
                throw new IOException("cannot read evidence " + reference.sha256() + ": " + e.getMessage(), e);
            }
        }

        /** Reads a whole value into memory. */
        public byte[] readAll(Reference reference) throws IOException {
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(kafka, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                return Evidence.readAll(consumer, topic, reference, timeout);
            } catch (KafkaException e) {
                throw new IOException("cannot read evidence " + reference.sha256() + ": " + e.getMessage(), e);
            }
        }
    }

    /** How many chunks a value of {@code bytes} takes; an empty value takes one, empty. */
    static int chunks(long bytes) {
        return (int) Math.max(1, (bytes + CHUNK_BYTES - 1) / CHUNK_BYTES);
    }

    /**
     * Writes a value in chunks and waits until Kafka acknowledged every one.
     *
     * @throws IOException if Kafka does not take a chunk within {@code timeout}
     */
    public static Reference write(Producer<byte[], byte[]> producer, String topic, byte[] content, String contentType, Duration timeout)
            throws IOException {
        String sha256 = HEX.formatHex(digest().digest(content));
        byte[] key = sha256.getBytes(StandardCharsets.UTF_8);
        byte[] type = contentType.getBytes(StandardCharsets.UTF_8);
        int count = chunks(content.length);
        // each chunk is made when it is sent: only the producer's buffer holds a copy of the content
        Iterable<ProducerRecord<byte[], byte[]>> records = () -> IntStream.range(0, count).mapToObj(i -> {
            byte[] chunk = Arrays.copyOfRange(content, i * CHUNK_BYTES, Math.min(content.length, (i + 1) * CHUNK_BYTES));
            List<Header> headers = List.of(new RecordHeader(CHUNK_HEADER, (i + "/" + count).getBytes(StandardCharsets.UTF_8)),
                    new RecordHeader(CONTENT_TYPE_HEADER, type));
            return new ProducerRecord<>(topic, null, key, chunk, headers);
        }).iterator();
        try {
            List<Long> offsets = new ArrayList<>(count);
            int partition = -1;
            for (RecordMetadata metadata : SendAndWait.sendAll(producer, records, timeout)) {
                if (partition >= 0 && metadata.partition() != partition) {
                    throw new IOException("the chunks of one value landed on partitions " + partition + " and " + metadata.partition());
                }
                partition = metadata.partition();
                offsets.add(metadata.offset());
            }
            return new Reference(topic, partition, offsets, sha256, content.length, contentType);
        } catch (ExecutionException e) {
            throw new IOException("Kafka did not take the evidence: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("Kafka did not acknowledge the evidence within " + timeout.toSeconds() + " s", e);
        } catch (KafkaException e) {
            throw new IOException("Kafka did not take the evidence: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing evidence", e);
        }
    }

    /**
     * Reads a value chunk by chunk, straight from its offsets, checking each chunk's key and place and the whole
     * value's size and hash before the last chunk goes to {@code sink}.
     *
     * @param consumer a consumer of byte arrays with {@code auto.offset.reset=none}, assigned nothing; it is left assigned
     * @param topic the evidence topic of this installation: a reference to any other topic is refused
     * @throws IOException if the value is gone (past retention), incomplete, not what the reference says, or Kafka does
     *         not answer within {@code timeout}
     */
    public static void read(Consumer<byte[], byte[]> consumer, String topic, Reference reference, Duration timeout, ChunkSink sink)
            throws IOException {
        if (!reference.topic().equals(topic)) {
            throw new IOException("evidence on topic " + reference.topic() + " is not on this installation's evidence topic " + topic);
        }
        TopicPartition partition = new TopicPartition(topic, reference.partition());
        consumer.assign(List.of(partition));
        MessageDigest digest = digest();
        byte[] key = reference.sha256().getBytes(StandardCharsets.UTF_8);
        List<Long> offsets = reference.offsets();
        long deadline = System.nanoTime() + timeout.toNanos();
        long total = 0;
        byte[] held = null;
        int next = 0;
        try {
            consumer.seek(partition, offsets.get(0));
            while (next < offsets.size()) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("Kafka did not return evidence " + reference.sha256() + " within " + timeout.toSeconds() + " s");
                }
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    if (next == offsets.size() || record.offset() < offsets.get(next)) {
                        continue;
                    }
                    if (record.offset() > offsets.get(next)) {
                        throw new IOException("chunk " + next + " of evidence " + reference.sha256() + " is not at " + partition
                                + " offset " + offsets.get(next));
                    }
                    byte[] chunk = checkedChunk(record, key, next, offsets.size(), reference);
                    total += chunk.length;
                    if (total > reference.bytes()) {
                        throw new IOException("evidence " + reference.sha256() + " is larger than the " + reference.bytes() + " bytes its reference says");
                    }
                    digest.update(chunk);
                    if (held != null) {
                        sink.accept(held);
                    }
                    held = chunk;
                    next++;
                }
                // straight to the next chunk: chunks of other values may lie between
                if (next < offsets.size() && consumer.position(partition) != offsets.get(next)) {
                    consumer.seek(partition, offsets.get(next));
                }
            }
        } catch (OffsetOutOfRangeException e) {
            throw new IOException("evidence " + reference.sha256() + " is gone: past the retention of " + topic, e);
        } catch (KafkaException e) {
            throw new IOException("cannot read evidence " + reference.sha256() + ": " + e.getMessage(), e);
        }
        if (total != reference.bytes() || !HEX.formatHex(digest.digest()).equals(reference.sha256())) {
            throw new IOException("evidence at " + partition + " " + offsets + " does not match its hash " + reference.sha256());
        }
        sink.accept(held);
    }

    /** Reads a whole value into memory ({@link #read}). */
    public static byte[] readAll(Consumer<byte[], byte[]> consumer, String topic, Reference reference, Duration timeout) throws IOException {
        byte[] value = new byte[(int) reference.bytes()];
        int[] at = {0};
        read(consumer, topic, reference, timeout, chunk -> {
            System.arraycopy(chunk, 0, value, at[0], chunk.length);
            at[0] += chunk.length;
        });
        return value;
    }

    private static byte[] checkedChunk(ConsumerRecord<byte[], byte[]> record, byte[] key, int index, int count, Reference reference)
            throws IOException {
        Header header = record.headers().lastHeader(CHUNK_HEADER);
        String place = header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
        if (!Arrays.equals(record.key(), key) || !(index + "/" + count).equals(place) || record.value() == null
                || record.value().length > CHUNK_BYTES) {
            throw new IOException("the record at " + record.topic() + "-" + record.partition() + " offset " + record.offset()
                    + " is not chunk " + index + " of evidence " + reference.sha256());
        }
        Header typeHeader = record.headers().lastHeader(CONTENT_TYPE_HEADER);
        String type = typeHeader == null ? JSON : new String(typeHeader.value(), StandardCharsets.UTF_8);
        if (!type.equals(reference.contentType())) {
            throw new IOException("evidence " + reference.sha256() + " is " + type + ", not the " + reference.contentType()
                    + " its reference says");
        }
        return record.value();
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
