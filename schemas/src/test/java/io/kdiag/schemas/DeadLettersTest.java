package io.kdiag.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

class DeadLettersTest {
    private static final DeadLetters.Source SOURCE = new DeadLetters.Source("kdiag.abnormal-requests", 3, 42);

    @Test
    void shouldCopyARecordThatFitsWholeWithItsSourceSizeAndHash() {
        ProducerRecord<byte[], byte[]> letter = DeadLetters.of("dlq", SOURCE, utf8("node-a"), utf8("hello"), "not JSON",
                DeadLetters.DEFAULT_MAX_RECORD_BYTES);

        assertThat(letter.topic()).isEqualTo("dlq");
        assertThat(letter.key()).isEqualTo(utf8("node-a"));
        assertThat(letter.value()).isEqualTo(utf8("hello"));
        assertThat(header(letter, DeadLetterHeaders.SOURCE_TOPIC)).isEqualTo("kdiag.abnormal-requests");
        assertThat(header(letter, DeadLetterHeaders.SOURCE_PARTITION)).isEqualTo("3");
        assertThat(header(letter, DeadLetterHeaders.SOURCE_OFFSET)).isEqualTo("42");
        assertThat(header(letter, DeadLetterHeaders.REASON)).isEqualTo("not JSON");
        assertThat(header(letter, DeadLetterHeaders.ORIGINAL_VALUE_BYTES)).isEqualTo("5");
        // sha256("hello")
        assertThat(header(letter, DeadLetterHeaders.ORIGINAL_VALUE_SHA256))
                .isEqualTo("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assertThat(header(letter, DeadLetterHeaders.TRUNCATED)).isNull();
    }

    @Test
    void shouldKeepOnlyTheStartOfAValueThatWouldNotFit() {
        byte[] value = new byte[DeadLetters.DEFAULT_MAX_RECORD_BYTES];
        Arrays.fill(value, (byte) 'x');

        ProducerRecord<byte[], byte[]> letter = DeadLetters.of("dlq", SOURCE, null, value, "too big", DeadLetters.DEFAULT_MAX_RECORD_BYTES);

        assertThat(letter.value()).hasSize(DeadLetters.KEPT_PREFIX_BYTES);
        assertThat(header(letter, DeadLetterHeaders.TRUNCATED)).isEqualTo("value");
        assertThat(header(letter, DeadLetterHeaders.ORIGINAL_VALUE_BYTES)).isEqualTo(String.valueOf(value.length));
    }

    @Test
    void shouldKeepNothingOfTheValueOnAHeadersOnlyBudget() {
        ProducerRecord<byte[], byte[]> letter = DeadLetters.of("dlq", SOURCE, null, utf8("small"), "refused",
                DeadLetters.HEADERS_ONLY_BYTES);

        assertThat(letter.value()).isEmpty();
        assertThat(header(letter, DeadLetterHeaders.TRUNCATED)).isEqualTo("value");
        assertThat(header(letter, DeadLetterHeaders.ORIGINAL_VALUE_BYTES)).isEqualTo("5");
    }

    @Test
    void shouldCutALongKeyAndALongReason() {
        byte[] key = new byte[5000];
        Arrays.fill(key, (byte) 'k');

        ProducerRecord<byte[], byte[]> letter = DeadLetters.of("dlq", SOURCE, key, null, "r".repeat(10_000),
                DeadLetters.DEFAULT_MAX_RECORD_BYTES);

        assertThat(letter.key()).hasSize(DeadLetters.MAX_KEY_BYTES);
        assertThat(letter.value()).isNull();
        assertThat(header(letter, DeadLetterHeaders.ORIGINAL_KEY_BYTES)).isEqualTo("5000");
        assertThat(header(letter, DeadLetterHeaders.ORIGINAL_VALUE_BYTES)).isEqualTo("0");
        assertThat(header(letter, DeadLetterHeaders.TRUNCATED)).isEqualTo("key");
        assertThat(header(letter, DeadLetterHeaders.REASON)).hasSize(DeadLetters.MAX_REASON_CHARS + 1).endsWith("…");
    }

    @Test
    void shouldNeverBudgetAboveKafkasDefaultWhateverTheProducerAllows() {
        assertThat(DeadLetters.maxRecordBytes(java.util.Map.of())).isEqualTo(1_048_576);
        assertThat(DeadLetters.maxRecordBytes(java.util.Map.of("max.request.size", "500000"))).isEqualTo(500_000);
        assertThat(DeadLetters.maxRecordBytes(java.util.Map.of("max.request.size", 10_000_000))).isEqualTo(1_048_576);
    }

    private static String header(ProducerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
