package io.kdiag.sourcebridge.request;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import io.kdiag.api.ApiSerialization;
import io.kdiag.schemas.AvroSerde;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Accepted;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.sourcebridge.Samples;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class IngestDecoderTest {
    private static final Instant RECORD_TIME = Instant.parse("2026-03-01T08:00:00Z");
    private static final IngestDecoder.Position AT_7 =
            new IngestDecoder.Position("kdiag.abnormal-requests", 3, 7, RECORD_TIME.toEpochMilli());

    private final IngestDecoder decoder = new IngestDecoder();

    @Test
    void shouldDecodeAvroAndForceTheIngestOrigin() throws Refusal {
        AbnormalRequest sent = Samples.avroRequest("node-1", Origin.CustomResource);

        AbnormalRequest decoded = decoder.decode(AT_7, null, AvroSerde.of(AbnormalRequest.class).encode(sent));

        assertThat(decoded.getOrigin()).isEqualTo(Origin.IngestTopic);
        assertThat(decoded.getUid()).isEqualTo(sent.getUid());
        assertThat(decoded.getNodeName()).isEqualTo("node-1");
        assertThat(decoded.getRequestedAt()).isEqualTo(sent.getRequestedAt());
        assertThat(decoded.getLabels()).isEqualTo(Map.of("team", "sre"));
        assertThat(decoded.getSpec()).isEqualTo(sent.getSpec());
    }

    @Test
    void shouldFillBlankAvroFieldsLikeMissingJsonFields() throws Refusal {
        AbnormalRequest sent = AbnormalRequest.newBuilder(Samples.avroRequest("", Origin.Unknown))
                .setUid("").setNamespace("").setSpec("{\"nodeName\":\"node-2\"}").build();

        AbnormalRequest decoded = decoder.decode(AT_7, null, AvroSerde.of(AbnormalRequest.class).encode(sent));

        assertThat(decoded.getUid()).isEqualTo(AT_7.derivedUid());
        assertThat(decoded.getNamespace()).isEqualTo("default");
        assertThat(decoded.getNodeName()).isEqualTo("node-2");
    }

    @Test
    void shouldDecodeJsonWithTheSpecAsAnObject() throws Refusal {
        AbnormalRequest decoded = decode("""
                {"uid": "u-1", "namespace": "ops", "name": "disk-full", "nodeName": "node-1",
                 "labels": {"team": "sre"}, "spec": {"skipRecovery": true}}""");

        assertThat(decoded.getUid()).isEqualTo("u-1");
        assertThat(decoded.getNamespace()).isEqualTo("ops");
        assertThat(decoded.getName()).isEqualTo("disk-full");
        assertThat(decoded.getNodeName()).isEqualTo("node-1");
        assertThat(decoded.getLabels()).isEqualTo(Map.of("team", "sre"));
        assertThat(ApiSerialization.jsonObject(decoded.getSpec())).isEqualTo(Map.of("skipRecovery", true));
        assertThat(decoded.getOrigin()).isEqualTo(Origin.IngestTopic);
    }

    @Test
    void shouldDecodeJsonWithTheSpecAsAString() throws Refusal {
        AbnormalRequest decoded = decode("""
                {"name": "disk-full", "spec": "{\\"nodeName\\": \\"node-1\\"}"}""");

        assertThat(decoded.getNodeName()).isEqualTo("node-1");
        assertThat(decoded.getSpec()).isEqualTo("{\"nodeName\": \"node-1\"}");
    }

    @Test
    void shouldApplyTheDefaultsToMinimalJson() throws Refusal {
        AbnormalRequest decoded = decode("""
                {"name": "disk-full", "spec": {"nodeName": "node-1"}}""");

        assertThat(decoded.getNamespace()).isEqualTo("default");
        assertThat(decoded.getUid()).isEqualTo(AT_7.derivedUid());
        assertThat(decoded.getRequestedAt()).isEqualTo(RECORD_TIME);
        assertThat(decoded.getLabels()).isEmpty();
        assertThat(decoded.getOrigin()).isEqualTo(Origin.IngestTopic);
    }

    @Test
    void shouldDeriveTheSameUidForTheSameRecordAndAnotherForAnother() throws Refusal {
        String json = """
                {"name": "disk-full", "spec": {"nodeName": "node-1"}}""";
        IngestDecoder.Position sameRecord = new IngestDecoder.Position(AT_7.topic(), AT_7.partition(), AT_7.offset(), 0);

        String first = decode(json).getUid();

        assertThat(new IngestDecoder().decode(sameRecord, null, bytes(json)).getUid()).isEqualTo(first);
        assertThat(decoder.decode(new IngestDecoder.Position(AT_7.topic(), 3, 8, 0), null, bytes(json)).getUid()).isNotEqualTo(first);
        assertThat(decoder.decode(new IngestDecoder.Position(AT_7.topic(), 4, 7, 0), null, bytes(json)).getUid()).isNotEqualTo(first);
        assertThat(decoder.decode(new IngestDecoder.Position("other.abnormal-requests", 3, 7, 0), null, bytes(json)).getUid())
                .isNotEqualTo(first);
        assertThat(first).isEqualTo("497915ef-896c-3423-9b50-b47a6bb17d74"); // UUIDv3 of "kdiag.abnormal-requests/3/7"; restarts depend on it
    }

    @Test
    void shouldOverrideAnOriginTheJsonClaims() throws Refusal {
        AbnormalRequest decoded = decode("""
                {"name": "disk-full", "origin": "CustomResource", "spec": {"nodeName": "node-1"}}""");

        assertThat(decoded.getOrigin()).isEqualTo(Origin.IngestTopic);
    }

    @Test
    void shouldTakeRequestedAtFromTheJsonWhenGiven() throws Refusal {
        AbnormalRequest decoded = decode("""
                {"name": "disk-full", "requestedAt": "2026-02-01T10:00:00Z", "spec": {"nodeName": "node-1"}}""");

        assertThat(decoded.getRequestedAt()).isEqualTo(Instant.parse("2026-02-01T10:00:00Z"));
    }

    @Test
    void shouldDateARecordWithoutTimestampByItsArrival() throws Refusal {
        Instant before = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);

        AbnormalRequest decoded = decoder.decode(new IngestDecoder.Position("t", 0, 0, -1), null,
                bytes("{\"name\": \"a\", \"spec\": {\"nodeName\": \"n\"}}"));

        assertThat(decoded.getRequestedAt()).isBetween(before, Instant.now());
    }

    @Test
    void shouldAcceptTheSameNodeNameAtTheTopAndInTheSpec() throws Refusal {
        assertThat(decode("""
                {"name": "a", "nodeName": "node-1", "spec": {"nodeName": "node-1"}}""").getNodeName()).isEqualTo("node-1");
    }

    @Test
    void shouldLeaveTheNodeEmptyForTheValidatorWhenNoneIsGiven() throws Refusal {
        assertThat(decode("""
                {"name": "a", "spec": {}}""").getNodeName()).isEmpty();
    }

    @Test
    void shouldDecodeAWholeAbnormalManifest() throws Refusal {
        AbnormalRequest decoded = decode(Samples.SEED_MANIFEST_JSON);

        assertThat(decoded.getName()).isEqualTo("pod-disk-usage-diagnosis");
        assertThat(decoded.getNamespace()).isEqualTo("default");
        assertThat(decoded.getNodeName()).isEqualTo("10.177.16.22");
        assertThat(decoded.getUid()).isEqualTo(AT_7.derivedUid());
        assertThat(decoded.getLabels()).isEqualTo(Map.of("app", "web"));
        assertThat(ApiSerialization.spec(decoded.getSpec()).skipRecovery).isTrue();
    }

    @Test
    void shouldKeepTheUidOfAManifestReadFromACluster() throws Refusal {
        AbnormalRequest decoded = decode("""
                {"apiVersion": "diagnosis.netease.com/v1", "kind": "Abnormal",
                 "metadata": {"name": "a", "namespace": "ops", "uid": "5f0e7c1a-0000-4000-8000-000000000001",
                              "resourceVersion": "42", "annotations": {"x": "y"}},
                 "spec": {"nodeName": "node-1"}, "status": {"phase": "Succeeded"}}""");

        assertThat(decoded.getUid()).isEqualTo("5f0e7c1a-0000-4000-8000-000000000001");
        assertThat(decoded.getNamespace()).isEqualTo("ops");
    }

    @Test
    void shouldTakeAManifestWithoutApiVersionAndKindByItsMetadata() throws Refusal {
        AbnormalRequest decoded = decode("""
                {"metadata": {"name": "a", "namespace": "ops"}, "spec": {"nodeName": "node-1"}}""");

        assertThat(decoded.getName()).isEqualTo("a");
        assertThat(decoded.getNamespace()).isEqualTo("ops");
        assertThat(decoded.getNodeName()).isEqualTo("node-1");
    }

    @Test
    void shouldTakeTheNodeFromTheRecordKeyWhenTheValueNamesNone() throws Refusal {
        byte[] key = bytes("node-7");

        assertThat(decoder.decode(AT_7, key, bytes("{\"metadata\": {\"name\": \"a\"}, \"spec\": {}}")).getNodeName()).isEqualTo("node-7");
        assertThat(decoder.decode(AT_7, key, bytes("{\"name\": \"a\", \"spec\": {\"nodeName\": \"node-1\"}}")).getNodeName())
                .as("the value's node wins over the key").isEqualTo("node-1");
        assertThat(decoder.decode(AT_7, null, bytes("{\"name\": \"a\", \"spec\": {}}")).getNodeName()).isEmpty();
    }

    @Test
    void shouldAcceptLeadingWhitespaceAndAByteOrderMark() throws Refusal {
        byte[] json = bytes(" \n\t{\"name\": \"a\", \"spec\": {\"nodeName\": \"n\"}}");
        byte[] withBom = new byte[json.length + 3];
        withBom[0] = (byte) 0xEF;
        withBom[1] = (byte) 0xBB;
        withBom[2] = (byte) 0xBF;
        System.arraycopy(json, 0, withBom, 3, json.length);

        assertThat(decoder.decode(AT_7, null, withBom).getName()).isEqualTo("a");
    }

    @Test
    void shouldRefuseDisagreeingNodeNames() {
        Refusal refusal = refusal("""
                {"name": "a", "nodeName": "node-1", "spec": {"nodeName": "node-2"}}""");

        assertThat(refusal.kind()).isEqualTo(Refusal.Kind.NO_NODE);
        assertThat(refusal).hasMessage("nodeName 'node-1' and spec.nodeName 'node-2' disagree");
    }

    @Test
    void shouldRefuseAnUnknownFieldNamingIt() {
        Refusal refusal = refusal("""
                {"name": "a", "nodename": "node-1", "spec": {}}""");

        assertThat(refusal.kind()).isEqualTo(Refusal.Kind.BAD_SHAPE);
        assertThat(refusal.getMessage()).startsWith("unknown field 'nodename'").contains("nodeName");
    }

    @Test
    void shouldRefuseAManifestOfAnotherKindOrVersion() {
        assertThat(refusal("""
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}, "spec": {}}"""))
                .hasMessage("apiVersion must be diagnosis.netease.com/v1, not 'v1'");
        assertThat(refusal("""
                {"apiVersion": "diagnosis.netease.com/v1", "kind": "Diagnoser", "metadata": {"name": "a"}, "spec": {}}"""))
                .hasMessage("kind must be Abnormal, not 'Diagnoser'");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedInputs")
    void shouldRefuseEveryMalformedInputWithAClearReason(String description, byte[] value, Refusal.Kind expected) {
        Throwable thrown = catchThrowable(() -> new RequestValidator().validate(decoder.decode(AT_7, null, value)));

        assertThat(thrown).as(description).isInstanceOf(Refusal.class);
        assertThat(((Refusal) thrown).kind()).as(thrown.getMessage()).isEqualTo(expected);
        assertThat(thrown.getMessage()).isNotBlank().hasSizeLessThanOrEqualTo(1_001);
    }

    static Stream<Arguments> malformedInputs() {
        List<Arguments> inputs = new ArrayList<>();
        byte[] avro = AvroSerde.of(AbnormalRequest.class).encode(Samples.avroRequest("node-1", Origin.IngestTopic));
        for (int length = 2; length < avro.length; length += 2) {
            inputs.add(arguments("Avro truncated to " + length + " bytes", Arrays.copyOf(avro, length), Refusal.Kind.BAD_AVRO));
        }
        inputs.add(arguments("wrong second magic byte", patched(avro, 1, 0x02), Refusal.Kind.UNDECODABLE));
        inputs.add(arguments("wrong first magic byte", patched(avro, 0, 0xC4), Refusal.Kind.UNDECODABLE));
        inputs.add(arguments("unknown fingerprint", patched(avro, 2, avro[2] ^ 0x55), Refusal.Kind.BAD_AVRO));
        inputs.add(arguments("Avro body of another record type",
                AvroSerde.of(DiagnosisEvent.class).encode(DiagnosisEvent.newBuilder().setAbnormalUid("u").setSeq(1).setNodeName("n")
                        .setTime(RECORD_TIME).setPayload(Accepted.newBuilder().setNamespace("d").setName("a").setOrigin(Origin.Unknown).setSpec("{}").build()).build()),
                Refusal.Kind.BAD_AVRO));
        inputs.add(arguments("Avro string claiming 2^62 bytes", avroBody(avro, varint(1L << 62)), Refusal.Kind.BAD_AVRO));
        inputs.add(arguments("Avro string claiming a negative length", avroBody(avro, varint(-5)), Refusal.Kind.BAD_AVRO));
        inputs.add(arguments("Avro labels claiming 2^30 entries", avroLabels(avro, varint(1L << 30)), Refusal.Kind.BAD_AVRO));
        inputs.add(arguments("Avro origin symbol out of range", avroOrigin(avro, varint(99)), Refusal.Kind.BAD_AVRO));
        inputs.add(arguments("Avro with a spec that is not JSON",
                encode(b -> b.setSpec("nodeName: node-1")), Refusal.Kind.BAD_SHAPE));
        inputs.add(arguments("Avro with a spec that is broken JSON", encode(b -> b.setSpec("{\"nodeName\": ")), Refusal.Kind.BAD_JSON));
        inputs.add(arguments("Avro with an empty name", encode(b -> b.setName("")), Refusal.Kind.BAD_SHAPE));
        inputs.add(arguments("Avro over the size cap",
                encode(b -> b.setSpec("{\"context\": {\"x\": \"" + "y".repeat(600_000) + "\"}}")), Refusal.Kind.TOO_LARGE));
        inputs.add(arguments("no value", new byte[0], Refusal.Kind.UNDECODABLE));
        inputs.add(arguments("only whitespace", bytes(" \n "), Refusal.Kind.UNDECODABLE));
        inputs.add(arguments("invalid UTF-8", new byte[] {'{', '"', (byte) 0xC3, (byte) 0x28, '"', '}'}, Refusal.Kind.UNDECODABLE));
        for (String text : List.of("[1, 2]", "\"disk-full\"", "42", "null", "true", "hello", "name: disk-full\nspec: {}",
                "<abnormal/>", "\u0000\u0001")) {
            inputs.add(arguments("not a JSON object: " + text, bytes(text), Refusal.Kind.UNDECODABLE));
        }
        for (String text : List.of("{", "{\"name\": }", "{\"name\": \"a\",}", "{'name': 'a'}", "{name: \"a\"}",
                "{\"name\": \"a\", \"spec\": {}} trailing", "{\"name\": \"a\" \"spec\": {}}", "{\"name\": NaN}",
                "{\"a\":".repeat(5_000) + "1" + "}".repeat(5_000))) {
            inputs.add(arguments("invalid JSON: " + abbreviate(text), bytes(text), Refusal.Kind.BAD_JSON));
        }
        Map<String, String> wrongTypes = new LinkedHashMap<>();
        wrongTypes.put("name as number", "{\"name\": 5, \"spec\": {}}");
        wrongTypes.put("uid as array", "{\"name\": \"a\", \"uid\": [], \"spec\": {}}");
        wrongTypes.put("namespace as boolean", "{\"name\": \"a\", \"namespace\": true, \"spec\": {}}");
        wrongTypes.put("nodeName as object", "{\"name\": \"a\", \"nodeName\": {}, \"spec\": {}}");
        wrongTypes.put("origin as number", "{\"name\": \"a\", \"origin\": 1, \"spec\": {}}");
        wrongTypes.put("labels as array", "{\"name\": \"a\", \"labels\": [\"x\"], \"spec\": {}}");
        wrongTypes.put("label value as number", "{\"name\": \"a\", \"labels\": {\"x\": 1}, \"spec\": {}}");
        wrongTypes.put("requestedAt as number", "{\"name\": \"a\", \"requestedAt\": 1700000000000, \"spec\": {}}");
        wrongTypes.put("requestedAt not a time", "{\"name\": \"a\", \"requestedAt\": \"yesterday\", \"spec\": {}}");
        wrongTypes.put("spec as number", "{\"name\": \"a\", \"spec\": 1}");
        wrongTypes.put("spec as array", "{\"name\": \"a\", \"spec\": [{}]}");
        wrongTypes.put("spec as string of an array", "{\"name\": \"a\", \"spec\": \"[]\"}");
        wrongTypes.put("spec as string of YAML", "{\"name\": \"a\", \"spec\": \"nodeName: n\"}");
        wrongTypes.put("spec.nodeName as number", "{\"name\": \"a\", \"spec\": {\"nodeName\": 7}}");
        wrongTypes.put("manifest metadata as string", "{\"apiVersion\": \"diagnosis.netease.com/v1\", \"kind\": \"Abnormal\", "
                + "\"metadata\": \"a\", \"spec\": {}}");
        wrongTypes.put("manifest metadata.name as number", "{\"apiVersion\": \"diagnosis.netease.com/v1\", \"kind\": \"Abnormal\", "
                + "\"metadata\": {\"name\": 1}, \"spec\": {}}");
        wrongTypes.put("manifest spec as string", "{\"apiVersion\": \"diagnosis.netease.com/v1\", \"kind\": \"Abnormal\", "
                + "\"metadata\": {\"name\": \"a\"}, \"spec\": \"{}\"}");
        wrongTypes.put("manifest kind as number", "{\"apiVersion\": \"diagnosis.netease.com/v1\", \"kind\": 1, "
                + "\"metadata\": {\"name\": \"a\"}, \"spec\": {}}");
        wrongTypes.put("missing name", "{\"nodeName\": \"n\", \"spec\": {}}");
        wrongTypes.put("blank name", "{\"name\": \"  \", \"nodeName\": \"n\", \"spec\": {}}");
        wrongTypes.put("missing spec", "{\"name\": \"a\", \"nodeName\": \"n\"}");
        wrongTypes.put("null spec", "{\"name\": \"a\", \"nodeName\": \"n\", \"spec\": null}");
        wrongTypes.put("empty object", "{}");
        wrongTypes.put("unknown field", "{\"name\": \"a\", \"spec\": {}, \"priority\": 1}");
        wrongTypes.put("manifest without metadata", "{\"apiVersion\": \"diagnosis.netease.com/v1\", \"kind\": \"Abnormal\", \"spec\": {}}");
        wrongTypes.put("manifest without name", "{\"apiVersion\": \"diagnosis.netease.com/v1\", \"kind\": \"Abnormal\", "
                + "\"metadata\": {\"generateName\": \"a-\"}, \"spec\": {}}");
        wrongTypes.put("manifest without spec", "{\"apiVersion\": \"diagnosis.netease.com/v1\", \"kind\": \"Abnormal\", "
                + "\"metadata\": {\"name\": \"a\"}}");
        wrongTypes.put("manifest with an unknown field", "{\"apiVersion\": \"diagnosis.netease.com/v1\", \"kind\": \"Abnormal\", "
                + "\"metadata\": {\"name\": \"a\"}, \"spec\": {}, \"nodeName\": \"n\"}");
        wrongTypes.forEach((description, json) -> inputs.add(arguments(description, bytes(json), Refusal.Kind.BAD_SHAPE)));
        inputs.add(arguments("spec fields of wrong types",
                bytes("{\"name\": \"a\", \"nodeName\": \"n\", \"spec\": {\"profilers\": 5}}"), Refusal.Kind.BAD_SPEC));
        inputs.add(arguments("spec with a number for a list",
                bytes("{\"name\": \"a\", \"nodeName\": \"n\", \"spec\": {\"commandExecutors\": [{\"command\": {}}]}}"),
                Refusal.Kind.BAD_SPEC));
        inputs.add(arguments("JSON over the size cap",
                bytes("{\"name\": \"a\", \"nodeName\": \"n\", \"spec\": {\"context\": {\"x\": \"" + "y".repeat(600_000) + "\"}}}"),
                Refusal.Kind.TOO_LARGE));
        inputs.add(arguments("node only in a podReference",
                bytes("{\"name\": \"a\", \"spec\": {\"podReference\": {\"namespace\": \"d\", \"name\": \"p\"}}}"),
                Refusal.Kind.NO_NODE));
        inputs.add(arguments("invalid name", bytes(Samples.jsonRequest("Disk_Full", "node-1")), Refusal.Kind.BAD_NAME));
        return inputs.stream();
    }

    private static byte[] patched(byte[] bytes, int index, int value) {
        byte[] copy = bytes.clone();
        copy[index] = (byte) value;
        return copy;
    }

    /** Header and fingerprint of a valid record, then {@code body} in place of the uid's length and what follows. */
    private static byte[] avroBody(byte[] valid, byte[] body) {
        byte[] bytes = Arrays.copyOf(valid, 10 + body.length + 16);
        System.arraycopy(body, 0, bytes, 10, body.length);
        return bytes;
    }

    /** A record with empty strings whose origin index is {@code origin}. */
    private static byte[] avroOrigin(byte[] valid, byte[] origin) {
        byte[] strings = {0, 0, 2, 'a', 2, 'n'};
        return concat(Arrays.copyOf(valid, 10), strings, origin, new byte[] {0, 4, '{', '}', 0});
    }

    /** A valid record up to the labels, then a map block claiming {@code count} entries and a few bytes. */
    private static byte[] avroLabels(byte[] valid, byte[] count) {
        byte[] strings = {0, 0, 2, 'a', 2, 'n'};
        return concat(Arrays.copyOf(valid, 10), strings, new byte[] {2, 0}, new byte[] {4, '{', '}'}, count, new byte[] {2, 'k', 2, 'v'});
    }

    private static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        byte[] all = new byte[length];
        int at = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        return all;
    }

    /** Avro's zig-zag varint of a long. */
    private static byte[] varint(long value) {
        long n = (value << 1) ^ (value >> 63);
        byte[] out = new byte[10];
        int i = 0;
        while ((n & ~0x7FL) != 0) {
            out[i++] = (byte) ((n & 0x7F) | 0x80);
            n >>>= 7;
        }
        out[i++] = (byte) n;
        return Arrays.copyOf(out, i);
    }

    private static byte[] encode(java.util.function.Consumer<AbnormalRequest.Builder> change) {
        AbnormalRequest.Builder builder = AbnormalRequest.newBuilder(Samples.avroRequest("node-1", Origin.IngestTopic));
        change.accept(builder);
        return AvroSerde.of(AbnormalRequest.class).encode(builder.build());
    }

    private static String abbreviate(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "…";
    }

    private AbnormalRequest decode(String json) throws Refusal {
        return decoder.decode(AT_7, null, bytes(json));
    }

    private Refusal refusal(String json) {
        return catchThrowableOfType(Refusal.class, () -> decode(json));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
