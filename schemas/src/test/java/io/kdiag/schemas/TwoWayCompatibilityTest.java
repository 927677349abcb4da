package io.kdiag.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/** The build's rule for a new version of a released schema accepts what the fallbacks handle and refuses the rest. */
class TwoWayCompatibilityTest {
    private static final Schema EVENT = DiagnosisEvent.getClassSchema();
    private static final Schema STATUS = AbnormalStatus.getClassSchema();

    @Test
    void shouldAcceptNewSymbolsPayloadTypesAndOptionalFields() {
        assertThat(TwoWayCompatibility.problems(EVENT, SchemaEvolutionTest.next("DiagnosisEvent"))).isEmpty();
        assertThat(TwoWayCompatibility.problems(STATUS, SchemaEvolutionTest.next("AbnormalStatus"))).isEmpty();
    }

    @Test
    void shouldRefuseANewFieldWithoutDefault() {
        Schema newer = changed(STATUS, "{\"name\":\"reason\",", "{\"name\":\"owner\",\"type\":\"string\"},{\"name\":\"reason\",");

        assertThat(TwoWayCompatibility.problems(STATUS, newer)).isNotEmpty()
                .allSatisfy(p -> assertThat(p).startsWith("the new version cannot read the old one: READER_FIELD_MISSING_DEFAULT_VALUE"));
    }

    @Test
    void shouldRefuseAChangedTypeOfAKnownPayload() {
        Schema newer = changed(EVENT, "{\"name\":\"succeeded\",\"type\":\"boolean\"}", "{\"name\":\"succeeded\",\"type\":\"string\"}");

        assertThat(TwoWayCompatibility.problems(EVENT, newer))
                .anySatisfy(p -> assertThat(p).startsWith("the old version cannot read the new one: ProcessorFinished"))
                .anySatisfy(p -> assertThat(p).startsWith("the new version cannot read the old one"));
    }

    @Test
    void shouldRefuseANewBranchInAUnionWithoutFallback() {
        Schema newer = changed(STATUS, "{\"name\":\"diagnoser\",\"type\":[\"null\",", "{\"name\":\"diagnoser\",\"type\":[\"null\",\"string\",");

        assertThat(TwoWayCompatibility.problems(STATUS, newer))
                .singleElement().asString().startsWith("the old version cannot read the new one: MISSING_UNION_BRANCH");
    }

    @Test
    void shouldRefuseANewSymbolOfAnEnumWithoutDefault() {
        // the first release's Stage had no default: a reader of it cannot read a record of a stage added later
        Schema v1 = ReleasedSchemas.get().versions("DiagnosisEvent").get(0);

        assertThat(TwoWayCompatibility.problems(v1, EVENT)).isNotEmpty()
                .allSatisfy(p -> assertThat(p).startsWith("the old version cannot read the new one"));
    }

    private static Schema changed(Schema schema, String from, String to) {
        String json = schema.toString();
        assertThat(json).contains(from);
        return new Schema.Parser().parse(json.replace(from, to));
    }
}
