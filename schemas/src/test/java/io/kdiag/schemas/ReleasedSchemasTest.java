package io.kdiag.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.Stream;

import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** Keeps every released schema readable, and refuses a current schema that was not released. */
class ReleasedSchemasTest {

    static Stream<Schema> currentSchemas() {
        return Stream.of(AbnormalRequest.getClassSchema(), DiagnosisEvent.getClassSchema(), AbnormalStatus.getClassSchema());
    }

    @ParameterizedTest
    @MethodSource("currentSchemas")
    void shouldHaveReleasedTheCurrentSchema(Schema current) {
        assertThat(ReleasedSchemas.get().isReleased(current))
                .as("%s changed: add its schema as a new version under schemas/src/main/resources/io/kdiag/schemas/released/"
                        + " and list it in index", current.getName())
                .isTrue();
    }

    @ParameterizedTest
    @MethodSource("currentSchemas")
    void shouldReadEveryReleasedVersion(Schema current) {
        List<Schema> versions = ReleasedSchemas.get().versions(current.getName());
        assertThat(versions).isNotEmpty();
        for (Schema writer : versions) {
            assertThat(SchemaCompatibility.checkReaderWriterCompatibility(current, writer).getType())
                    .as("current %s reading a released version", current.getName())
                    .isEqualTo(SchemaCompatibilityType.COMPATIBLE);
        }
    }

    @Test
    void shouldKnowNoFingerprintOfAnUnreleasedSchema() {
        Schema unreleased = new Schema.Parser().parse(
                "{\"type\":\"record\",\"name\":\"AbnormalRequest\",\"namespace\":\"io.kdiag.schemas.avro\","
                        + "\"fields\":[{\"name\":\"uid\",\"type\":\"string\"}]}");
        assertThat(ReleasedSchemas.get().isReleased(unreleased)).isFalse();
    }

    @Test
    void shouldRefuseBytesOfAnUnknownSchemaWithAClearError() {
        byte[] bytes = {(byte) 0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0};
        assertThatThrownBy(() -> AvroSerde.of(AbnormalRequest.class).decode(bytes))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("not a released AbnormalRequest schema");
    }
}
