package io.kdiag.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Condition;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.Stage;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.SchemaStore;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class AvroSerdeTest {
    private static final Instant T0 = Instant.parse("2026-11-27T10:00:00Z");

    @Test
    void shouldRoundTripARequestInSingleObjectEncoding() {
        AbnormalRequest request = AbnormalRequest.newBuilder()
                .setUid("7f0c").setNamespace("default").setName("disk").setNodeName("node-1")
                .setOrigin(Origin.IngestTopic).setRequestedAt(T0).setSpec("{\"nodeName\":\"node-1\"}")
                .setLabels(Map.of("team", "sre")).build();
        AvroSerde<AbnormalRequest> serde = AvroSerde.of(AbnormalRequest.class);

        byte[] bytes = serde.encode(request);

        assertThat(bytes[0]).isEqualTo((byte) 0xC3);
        assertThat(bytes[1]).isEqualTo((byte) 0x01);
        long fingerprint = ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(fingerprint).isEqualTo(SchemaNormalization.parsingFingerprint64(AbnormalRequest.getClassSchema()));
        assertThat(serde.decode(bytes)).isEqualTo(request);
    }

    @Test
    void shouldRoundTripAnEventWithATypedPayload() {
        DiagnosisEvent event = DiagnosisEvent.newBuilder()
                .setAbnormalUid("7f0c").setSeq(3).setNodeName("node-1").setTime(T0)
                .setPayload(ProcessorFinished.newBuilder().setStage(Stage.InformationCollection)
                        .setProcessor(new NamespacedName("kube-diagnoser", "process-collector"))
                        .setSucceeded(true).setContextUpdates("{\"processInformation\":[]}")
                        .setDurationMillis(12).build())
                .build();
        AvroSerde<DiagnosisEvent> serde = AvroSerde.of(DiagnosisEvent.class);

        assertThat(serde.decode(serde.encode(event))).isEqualTo(event);
    }

    @Test
    void shouldRoundTripAStatusSnapshot() {
        AbnormalStatus status = AbnormalStatus.newBuilder()
                .setUid("7f0c").setNamespace("default").setName("disk").setNodeName("node-1")
                .setOrigin(Origin.CustomResource).setSpec("{}").setLastSeq(7).setUpdatedAt(T0)
                .setPhase(Phase.Succeeded).setStartTime(T0)
                .setConditions(List.of(new Condition("Identified", "True", T0, null, null)))
                .build();
        AvroSerde<AbnormalStatus> serde = AvroSerde.of(AbnormalStatus.class);

        assertThat(serde.decode(serde.encode(status))).isEqualTo(status);
    }

    @Test
    void shouldReadARecordWrittenByAnOlderReleasedVersion() throws Exception {
        // A writer that lacks the labels field: what a v1 producer would send if labels had been added in v2.
        Schema current = AbnormalRequest.getClassSchema();
        Schema older = Schema.createRecord(current.getName(), null, current.getNamespace(), false,
                current.getFields().stream().filter(f -> !f.name().equals("labels")).map(f -> new Schema.Field(f, f.schema())).toList());
        assertThat(older.getField("labels")).isNull();
        GenericRecord record = new GenericData.Record(older);
        record.put("uid", "u1");
        record.put("namespace", "default");
        record.put("name", "n");
        record.put("nodeName", "node-1");
        record.put("origin", new GenericData.EnumSymbol(older.getField("origin").schema(), "Log"));
        record.put("requestedAt", T0.toEpochMilli());
        record.put("spec", "{}");
        byte[] bytes = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), older).encode(record).array();
        AvroSerde<AbnormalRequest> serde = AvroSerde.of(AbnormalRequest.class);

        // not released: refused with a clear error rather than misread
        assertThatThrownBy(() -> serde.decode(bytes)).isInstanceOf(SerializationException.class);
        // once in the store of released versions, it reads with the new field's default filled in
        SchemaStore.Cache store = new SchemaStore.Cache();
        store.addSchema(older);
        AbnormalRequest read = AbnormalRequest.createDecoder(store).decode(bytes);
        assertThat(read.getLabels()).isEmpty();
        assertThat(read.getOrigin()).isEqualTo(Origin.Log);
    }

    @Test
    void shouldRefuseGarbageWithAClearError() {
        assertThatThrownBy(() -> AvroSerde.of(DiagnosisEvent.class).decode("{\"not\":\"avro\"}".getBytes()))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("DiagnosisEvent");
    }
}
