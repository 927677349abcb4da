package io.kdiag.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.ApprovalDecision;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.RecoveryBudgetAnswer;
import io.kdiag.schemas.avro.RecoveryBudgetRequest;
import io.kdiag.schemas.avro.RecoveryControl;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * Keeps every released schema readable, refuses a current schema that was not released, and refuses a release that is
 * not a two-way compatible successor of the ones before it ({@link TwoWayCompatibility}).
 */
class ReleasedSchemasTest {
    /** The first version of each record that readers of later versions can rely on: its enums have defaults, its payload union a fallback. */
    private static final Map<String, Integer> TWO_WAY_SINCE = Map.of("AbnormalRequest", 1, "DiagnosisEvent", 2, "AbnormalStatus", 2, "RecoveryControl", 1,
            "RecoveryBudgetRequest", 1, "RecoveryBudgetAnswer", 1, "ApprovalDecision", 1);

    static Stream<Schema> currentSchemas() {
        return Stream.of(AbnormalRequest.getClassSchema(), DiagnosisEvent.getClassSchema(), AbnormalStatus.getClassSchema(),
                RecoveryControl.getClassSchema(), RecoveryBudgetRequest.getClassSchema(), RecoveryBudgetAnswer.getClassSchema(),
                ApprovalDecision.getClassSchema());
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

    @ParameterizedTest
    @MethodSource("currentSchemas")
    void shouldReleaseOnlyTwoWayCompatibleVersions(Schema current) {
        List<Schema> versions = ReleasedSchemas.get().versions(current.getName());
        for (int older = TWO_WAY_SINCE.get(current.getName()) - 1; older < versions.size(); older++) {
            for (int newer = older + 1; newer < versions.size(); newer++) {
                assertThat(TwoWayCompatibility.problems(versions.get(older), versions.get(newer)))
                        .as("%s v%d after v%d", current.getName(), newer + 1, older + 1)
                        .isEmpty();
            }
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
