package io.kdiag.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.kdiag.api.ApiSerialization;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.internals.AutoOffsetResetStrategy;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

class EvidenceTest {
    private static final String TOPIC = "kdiag.evidence";
    private static final String SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    @Test
    void shouldReadBackTheReferenceItPutsInTheContext() {
        Evidence.Reference reference = new Evidence.Reference("kdiag.evidence", 3, List.of(10L, 14L, 15L), SHA,
                2L * Evidence.CHUNK_BYTES + 7, "application/json");

        Object inContext = ApiSerialization.jsonObject(ApiSerialization.json(Map.of("podInformation", reference.toContextValue())))
                .get("podInformation");

        assertThat(Evidence.Reference.fromContextValue(inContext)).contains(reference);
    }

    @Test
    void shouldTakeOnlyAnObjectWhoseOnlyMemberIsEvidenceForAReference() {
        assertThat(Evidence.Reference.fromContextValue(List.of(1, 2))).isEmpty();
        assertThat(Evidence.Reference.fromContextValue(Map.of("evidence", "yes", "pods", 3))).isEmpty();
        assertThat(Evidence.Reference.fromContextValue("evidence")).isEmpty();
    }

    @Test
    void shouldReadTheChunksOfAValueStraightFromTheirOffsetsPastOtherValuesChunks() throws Exception {
        byte[] a = bytes(2 * Evidence.CHUNK_BYTES + 10, 'a');
        byte[] b = bytes(Evidence.CHUNK_BYTES + 1, 'b');
        MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
        Evidence.Reference refA = Evidence.write(producer, TOPIC, a, "application/json", Duration.ofSeconds(5));
        Evidence.Reference refB = Evidence.write(producer, TOPIC, b, "text/plain", Duration.ofSeconds(5));
        // what the topic holds, with another agent's chunk between a's
        List<ProducerRecord<byte[], byte[]>> sent = new ArrayList<>(producer.history());
        sent.add(1, sent.get(3));

        Evidence.Reference placedA = new Evidence.Reference(TOPIC, 0, List.of(0L, 2L, 3L), refA.sha256(), refA.bytes(), refA.contentType());
        assertThat(Evidence.readAll(consumerOf(sent), TOPIC, placedA, Duration.ofSeconds(5))).isEqualTo(a);
        Evidence.Reference placedB = new Evidence.Reference(TOPIC, 0, List.of(4L, 5L), refB.sha256(), refB.bytes(), refB.contentType());
        assertThat(Evidence.readAll(consumerOf(sent), TOPIC, placedB, Duration.ofSeconds(5))).isEqualTo(b);
        assertThat(refA.offsets()).hasSize(3);
        assertThat(sent.get(0).headers().lastHeader(Evidence.CHUNK_HEADER).value()).asString().isEqualTo("0/3");
    }

    @Test
    void shouldRefuseChunksThatAreNotTheValueItsReferenceNames() throws Exception {
        byte[] a = bytes(Evidence.CHUNK_BYTES + 10, 'a');
        MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
        Evidence.Reference ref = Evidence.write(producer, TOPIC, a, "application/json", Duration.ofSeconds(5));
        List<ProducerRecord<byte[], byte[]>> sent = producer.history();
        ProducerRecord<byte[], byte[]> last = sent.get(1);
        byte[] tampered = last.value().clone();
        tampered[0] = 'z';
        List<ProducerRecord<byte[], byte[]>> forged = List.of(sent.get(0), new ProducerRecord<>(TOPIC, 0, last.key(), tampered, last.headers()));

        List<byte[]> delivered = new ArrayList<>();
        assertThatThrownBy(() -> Evidence.read(consumerOf(forged), TOPIC, ref, Duration.ofSeconds(5), delivered::add))
                .isInstanceOf(IOException.class).hasMessageContaining("does not match its hash");
        assertThat(delivered).as("the last chunk is held back until the whole value checked out").hasSize(1);
        assertThatThrownBy(() -> Evidence.read(consumerOf(List.of(sent.get(1), sent.get(0))), TOPIC, ref, Duration.ofSeconds(5), c -> { }))
                .isInstanceOf(IOException.class).hasMessageContaining("is not chunk 0");
        assertThatThrownBy(() -> Evidence.read(consumerOf(sent), "other.evidence", ref, Duration.ofSeconds(5), c -> { }))
                .isInstanceOf(IOException.class).hasMessageContaining("not on this installation's evidence topic other.evidence");
    }

    @Test
    void shouldServeAValueOnlyAsTheTypeItsWriterGaveIt() throws Exception {
        byte[] json = "[\"<script>alert(1)</script>\"]".getBytes(StandardCharsets.UTF_8);
        MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
        Evidence.Reference ref = Evidence.write(producer, TOPIC, json, Evidence.JSON, Duration.ofSeconds(5));
        Evidence.Reference asPage = new Evidence.Reference(TOPIC, 0, ref.offsets(), ref.sha256(), ref.bytes(), "text/html; charset=utf-8");

        assertThat(Evidence.readAll(consumerOf(producer.history()), TOPIC, ref, Duration.ofSeconds(5))).isEqualTo(json);
        assertThatThrownBy(() -> Evidence.readAll(consumerOf(producer.history()), TOPIC, asPage, Duration.ofSeconds(5)))
                .isInstanceOf(IOException.class).hasMessageContaining("is application/json, not the text/html; charset=utf-8 its reference says");
        // chunks written before the type was recorded were all context values
        ProducerRecord<byte[], byte[]> chunk = producer.history().get(0);
        ProducerRecord<byte[], byte[]> untyped = new ProducerRecord<>(TOPIC, 0, chunk.key(), chunk.value(),
                List.of(chunk.headers().lastHeader(Evidence.CHUNK_HEADER)));
        assertThat(Evidence.readAll(consumerOf(List.of(untyped)), TOPIC, ref, Duration.ofSeconds(5))).isEqualTo(json);
    }

    @Test
    void shouldNameAValueByAPathRelativeToWhereTheStatusWriterServesIt() {
        Evidence.Reference ref = new Evidence.Reference(TOPIC, 2, List.of(7L, 9L), SHA, Evidence.CHUNK_BYTES + 1, "text/html; charset=utf-8");

        assertThat(ref.path()).isEqualTo(SHA + "?partition=2&offsets=7,9&bytes=" + (Evidence.CHUNK_BYTES + 1) + "&type=text%2Fhtml%3B+charset%3Dutf-8");
        assertThat(Evidence.Reference.fromServedPath(TOPIC, Evidence.SERVED_AT + ref.path())).isEqualTo(ref);
        assertThat(Evidence.Reference.fromPath(TOPIC, SHA, Map.of("partition", "0", "offsets", "3", "bytes", "5")).contentType())
                .isEqualTo(Evidence.JSON);
        assertThatThrownBy(() -> Evidence.Reference.fromServedPath(TOPIC, "http://node:8090/artifacts/1/flamegraph.html"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static MockConsumer<byte[], byte[]> consumerOf(List<ProducerRecord<byte[], byte[]>> records) {
        MockConsumer<byte[], byte[]> consumer = new MockConsumer<>(AutoOffsetResetStrategy.NONE.name());
        TopicPartition partition = new TopicPartition(TOPIC, 0);
        consumer.assign(List.of(partition));
        consumer.updateBeginningOffsets(Map.of(partition, 0L));
        for (int offset = 0; offset < records.size(); offset++) {
            ProducerRecord<byte[], byte[]> r = records.get(offset);
            consumer.addRecord(new ConsumerRecord<>(TOPIC, 0, offset, 0L, TimestampType.CREATE_TIME, 0, 0, r.key(), r.value(), r.headers(),
                    Optional.empty()));
        }
        consumer.unsubscribe();
        return consumer;
    }

    private static byte[] bytes(int size, char fill) {
        byte[] bytes = new byte[size];
        Arrays.fill(bytes, (byte) fill);
        bytes[size - 1] = '!';
        return bytes;
    }

    @Test
    void shouldRefuseAReferenceNoWriterMakes() {
        assertThatThrownBy(() -> Evidence.Reference.fromContextValue(Map.of("evidence", Map.of("sha256", SHA))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("malformed evidence reference");
        assertThatThrownBy(() -> new Evidence.Reference("kdiag.evidence", 0, List.of(1L), "ABC", 1, "application/json"))
                .hasMessageContaining("not a SHA-256");
        assertThatThrownBy(() -> new Evidence.Reference("kdiag.evidence", 0, List.of(1L), SHA, Evidence.CHUNK_BYTES + 1, "application/json"))
                .hasMessageContaining("has 2 chunk(s), not 1");
        assertThatThrownBy(() -> new Evidence.Reference("kdiag.evidence", 0, List.of(1L), SHA, Evidence.MAX_VALUE_BYTES + 1, "application/json"))
                .hasMessageContaining("more than the " + Evidence.MAX_VALUE_BYTES);
    }
}
