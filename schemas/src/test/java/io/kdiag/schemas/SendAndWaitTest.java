package io.kdiag.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;

import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class SendAndWaitTest {
    /** Completes a send only when flushed, as a producer holds a record back for its linger. */
    private final MockProducer<String, String> producer = new MockProducer<>(false, null, new StringSerializer(), new StringSerializer());

    @Test
    void shouldFlushSoThatTheWaitIsNotALinger() throws Exception {
        RecordMetadata written = SendAndWait.send(producer, new ProducerRecord<>("t", "k", "v"), Duration.ofSeconds(5));

        assertThat(written.topic()).isEqualTo("t");
        assertThat(producer.history()).extracting(ProducerRecord::value).containsExactly("v");
    }

    @Test
    void shouldAnswerEachRecordInTheOrderSent() throws Exception {
        List<RecordMetadata> written = SendAndWait.sendAll(producer,
                List.of(new ProducerRecord<>("t", 0, "k", "a"), new ProducerRecord<>("t", 0, "k", "b")), Duration.ofSeconds(5));

        assertThat(written).extracting(RecordMetadata::offset).containsExactly(0L, 1L);
    }
}
