package io.kdiag.testkit;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Record sizes at and around Kafka's size limits, for the poison-record tests of every topic: the producer's
 * {@code max.request.size}, the broker's {@code message.max.bytes} and a topic's {@code max.message.bytes}. The
 * topics under test take more than both defaults, as many clusters are set up, so that records larger than a
 * component's own producer may send do arrive.
 */
public final class RecordSizes {
    /** The producer's default {@code max.request.size}. */
    public static final int PRODUCER_LIMIT = 1_048_576;
    /** The broker's default {@code message.max.bytes}: a batch, so one record's value takes a little less. */
    public static final int BROKER_LIMIT = 1_048_588;
    /** What the topics under test take ({@code max.message.bytes}). */
    public static final int TOPIC_LIMIT = 1_100_000;

    private RecordSizes() {
    }

    /** Values one byte under, at and over each default limit, and about the largest a record of such a topic carries. */
    public static List<Integer> aroundEveryLimit() {
        return List.of(PRODUCER_LIMIT - 1, PRODUCER_LIMIT, PRODUCER_LIMIT + 1, BROKER_LIMIT - 1, BROKER_LIMIT, BROKER_LIMIT + 1,
                TOPIC_LIMIT - 1024);
    }

    /** A value of {@code size} bytes, all {@code fill}. */
    public static byte[] filled(int size, char fill) {
        byte[] value = new byte[size];
        Arrays.fill(value, (byte) fill);
        return value;
    }

    /** Lets {@code topic} take records up to {@link #TOPIC_LIMIT}. */
    public static void allowLargeRecords(String bootstrapServers, String topic) {
        TopicSettings.set(bootstrapServers, topic, "max.message.bytes", String.valueOf(TOPIC_LIMIT));
    }

    /** Producer settings that send records up to {@link #TOPIC_LIMIT}. */
    public static Map<String, Object> largeRecordProducer(String bootstrapServers) {
        Map<String, Object> settings = new HashMap<>();
        settings.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        settings.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, TOPIC_LIMIT);
        return settings;
    }
}
