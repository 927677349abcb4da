package io.kdiag.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.CommandExecutorResult;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.StageOutcome;
import io.kdiag.schemas.avro.UnknownPayload;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.SchemaStore;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

/**
 * Records travel both ways between this version and a later one: the "next" schemas under test resources add a stage,
 * a stage outcome, a payload type and optional fields, as a later release may. The later writer publishes its schema
 * to the schemas topic, stood in for here by an in-memory store.
 */
class SchemaEvolutionTest {
    private static final Instant T0 = Instant.parse("2026-11-27T10:00:00Z");
    private static final Schema NEXT_EVENT = next("DiagnosisEvent");
    private static final Schema NEXT_STATUS = next("AbnormalStatus");
    private static final NamespacedName COLLECTOR = new NamespacedName("kube-diagnoser", "process-collector");

    private final SchemaStore.Cache published = new SchemaStore.Cache();
    private final AvroSerde<DiagnosisEvent> events = AvroSerde.of(DiagnosisEvent.class, published);

    @Test
    void shouldReadAPayloadTypeOfALaterVersionAsUnknownPayload() {
        published.addSchema(NEXT_EVENT);
        GenericRecord verified = record(NEXT_EVENT, "RecoveryVerified");
        verified.put("stage", symbol(NEXT_EVENT, "Stage", "Prevention"));
        verified.put("verified", true);
        verified.put("detail", "pod \"web\" runs again");

        DiagnosisEvent read = events.decode(nextEvent(5, verified, "trace-1"));

        assertThat(read.getSeq()).isEqualTo(5);
        assertThat(read.getNodeName()).isEqualTo("node-1");
        assertThat(read.getPayload()).isEqualTo(new UnknownPayload("io.kdiag.schemas.avro.RecoveryVerified",
                "{\"stage\": \"Prevention\", \"verified\": true, \"detail\": \"pod \\\"web\\\" runs again\"}"));
    }

    @Test
    void shouldReadNewSymbolsAsUnknownAndDropNewFields() {
        published.addSchema(NEXT_EVENT);
        GenericRecord finished = record(NEXT_EVENT, "ProcessorFinished");
        finished.put("stage", symbol(NEXT_EVENT, "Stage", "Prevention"));
        finished.put("processor", processor(NEXT_EVENT));
        finished.put("succeeded", true);
        finished.put("contextUpdates", "{\"k\":1}");
        finished.put("removedContextKeys", List.of());
        finished.put("durationMillis", 12L);
        finished.put("attempt", 2);
        GenericRecord stage = record(NEXT_EVENT, "StageFinished");
        stage.put("stage", symbol(NEXT_EVENT, "Stage", "Diagnosis"));
        stage.put("outcome", symbol(NEXT_EVENT, "StageOutcome", "Cancelled"));

        ProcessorFinished readFinished = (ProcessorFinished) events.decode(nextEvent(3, finished, null)).getPayload();
        StageFinished readStage = (StageFinished) events.decode(nextEvent(4, stage, "trace-1")).getPayload();

        assertThat(readFinished.getStage()).isEqualTo(Stage.Unknown);
        assertThat(readFinished.getContextUpdates()).isEqualTo("{\"k\":1}");
        assertThat(readFinished.getDurationMillis()).isEqualTo(12);
        assertThat(readStage.getStage()).isEqualTo(Stage.Diagnosis);
        assertThat(readStage.getOutcome()).isEqualTo(StageOutcome.Unknown);
    }

    @Test
    void shouldReadAStatusOfALaterVersion() {
        published.addSchema(NEXT_STATUS);
        GenericRecord status = new GenericData.Record(NEXT_STATUS);
        status.put("uid", "u1");
        status.put("namespace", "default");
        status.put("name", "n");
        status.put("nodeName", "node-1");
        status.put("origin", symbol(NEXT_STATUS, "Origin", "Log"));
        status.put("labels", Map.of());
        status.put("spec", "{}");
        status.put("lastSeq", 9L);
        status.put("updatedAt", T0.toEpochMilli());
        status.put("phase", symbol(NEXT_STATUS, "Phase", "Succeeded"));
        status.put("conditions", List.of());
        status.put("context", "{}");
        status.put("identifiable", true);
        status.put("recoverable", true);
        GenericRecord command = new GenericData.Record(NEXT_STATUS.getField("commandExecutors").schema().getElementType());
        command.put("command", List.of("uptime"));
        command.put("stage", symbol(NEXT_STATUS, "Stage", "Prevention"));
        command.put("stdout", "up");
        command.put("stderr", "");
        status.put("commandExecutors", List.of(command));
        status.put("profilers", List.of());
        status.put("observedGeneration", 4L);

        AbnormalStatus read = AvroSerde.of(AbnormalStatus.class, published).decode(encode(NEXT_STATUS, status));

        assertThat(read.getLastSeq()).isEqualTo(9);
        assertThat(read.getPhase()).isEqualTo(Phase.Succeeded);
        assertThat(read.getCommandExecutors()).containsExactly(
                new CommandExecutorResult(List.of("uptime"), Stage.Unknown, "up", "", null));
    }

    @Test
    void shouldRefuseARecordOfALaterVersionNobodyPublished() {
        GenericRecord verified = record(NEXT_EVENT, "RecoveryVerified");
        verified.put("stage", symbol(NEXT_EVENT, "Stage", "Recovery"));
        verified.put("verified", false);
        verified.put("detail", "");

        assertThatThrownBy(() -> events.decode(nextEvent(1, verified, null)))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("not a released DiagnosisEvent schema");
    }

    @Test
    void shouldBeReadByALaterVersion() {
        BinaryMessageDecoder<GenericRecord> later = new BinaryMessageDecoder<>(GenericData.get(), NEXT_EVENT,
                ReleasedSchemas.get().store());
        DiagnosisEvent finished = DiagnosisEvent.newBuilder().setAbnormalUid("u1").setSeq(3).setNodeName("node-1").setTime(T0)
                .setPayload(ProcessorFinished.newBuilder().setStage(Stage.Diagnosis).setProcessor(COLLECTOR)
                        .setSucceeded(false).setReason("Timeout").setDurationMillis(30_000).build())
                .build();
        DiagnosisEvent stage = DiagnosisEvent.newBuilder(finished).setSeq(4)
                .setPayload(new StageFinished(Stage.Recovery, StageOutcome.Skipped, null, null, "skipRecovery is set")).build();

        GenericRecord readFinished = decode(later, events.encode(finished));
        GenericRecord readStage = decode(later, events.encode(stage));

        assertThat(readFinished.get("traceId")).isNull();
        GenericRecord payload = (GenericRecord) readFinished.get("payload");
        assertThat(payload.getSchema().getName()).isEqualTo("ProcessorFinished");
        assertThat(payload.get("attempt")).isEqualTo(1);
        assertThat(payload.get("reason")).hasToString("Timeout");
        GenericRecord stagePayload = (GenericRecord) readStage.get("payload");
        assertThat(stagePayload.get("stage")).hasToString("Recovery");
        assertThat(stagePayload.get("outcome")).hasToString("Skipped");
        AbnormalStatus status = AbnormalStatus.newBuilder().setUid("u1").setNamespace("default").setName("n").setNodeName("node-1")
                .setOrigin(Origin.CustomResource).setSpec("{}").setLastSeq(4).setUpdatedAt(T0).setPhase(Phase.Failed).build();
        GenericRecord readStatus = decode(new BinaryMessageDecoder<>(GenericData.get(), NEXT_STATUS, ReleasedSchemas.get().store()),
                AvroSerde.of(AbnormalStatus.class).encode(status));
        assertThat(readStatus.get("observedGeneration")).isNull();
        assertThat(readStatus.get("phase")).hasToString("Failed");
    }

    private static GenericRecord decode(BinaryMessageDecoder<GenericRecord> decoder, byte[] bytes) {
        try {
            return decoder.decode(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] nextEvent(long seq, GenericRecord payload, String traceId) {
        GenericRecord event = new GenericData.Record(NEXT_EVENT);
        event.put("abnormalUid", "u1");
        event.put("seq", seq);
        event.put("nodeName", "node-1");
        event.put("traceId", traceId);
        event.put("time", T0.toEpochMilli());
        event.put("payload", payload);
        return encode(NEXT_EVENT, event);
    }

    private static byte[] encode(Schema schema, GenericRecord record) {
        try {
            ByteBuffer buffer = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), schema).encode(record);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static GenericRecord record(Schema event, String payloadType) {
        return new GenericData.Record(event.getField("payload").schema().getTypes().stream()
                .filter(s -> s.getName().equals(payloadType)).findFirst().orElseThrow());
    }

    private static GenericRecord processor(Schema event) {
        GenericRecord name = new GenericData.Record(record(event, "ProcessorStarted").getSchema().getField("processor").schema());
        name.put("namespace", COLLECTOR.getNamespace());
        name.put("name", COLLECTOR.getName());
        return name;
    }

    private static GenericData.EnumSymbol symbol(Schema root, String enumName, String symbol) {
        Schema type = find(root, enumName);
        assertThat(type.getEnumSymbols()).contains(symbol);
        return new GenericData.EnumSymbol(type, symbol);
    }

    /** A named type anywhere in a schema. */
    private static Schema find(Schema schema, String name) {
        if (schema.getType() == Schema.Type.ENUM || schema.getType() == Schema.Type.RECORD) {
            if (schema.getName().equals(name)) {
                return schema;
            }
        }
        List<Schema> children = switch (schema.getType()) {
            case RECORD -> schema.getFields().stream().map(Schema.Field::schema).toList();
            case UNION -> schema.getTypes();
            case ARRAY -> List.of(schema.getElementType());
            case MAP -> List.of(schema.getValueType());
            default -> List.of();
        };
        return children.stream().map(c -> find(c, name)).filter(s -> s != null).findFirst().orElse(null);
    }

    static Schema next(String record) {
        try (InputStream in = SchemaEvolutionTest.class.getResourceAsStream("next/" + record + ".avsc")) {
            return new Schema.Parser().parse(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
