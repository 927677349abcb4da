package io.kdiag.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.testkit.TestKafka;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kdiag get abnormals} against a broker. */
class GetCommandIT {
    private static final Topics TOPICS = Topics.withDefaultPrefix();
    private static TestKafka kafka;

    @TempDir
    Path home;

    @BeforeAll
    static void startKafka() {
        kafka = TestKafka.start();
        TopicAdmin.ensureTopics(Map.of("bootstrap.servers", kafka.bootstrapServers()), TOPICS, 1, (short) 1);
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    @Test
    void shouldListWhatItCouldReadAndSayThatUnreadableStatusesWereLeftOut() throws Exception {
        String topic = TOPICS.abnormalStatus().name();
        Instant t = Instant.parse("2026-12-01T10:00:00Z");
        AbnormalStatus status = AbnormalStatus.newBuilder().setUid("uid-1").setNamespace("default").setName("disk-full")
                .setNodeName("node-1").setOrigin(Origin.IngestTopic).setSpec("{}").setLastSeq(7).setUpdatedAt(t)
                .setStartTime(t).setPhase(Phase.Succeeded).setContext("{}").build();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", kafka.bootstrapServers()),
                new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, "uid-0", "not avro".getBytes())).get();
            producer.send(new ProducerRecord<>(topic, "uid-1", TOPICS.abnormalStatus().valueSerde().serializer().serialize(topic, status))).get();
            producer.send(new ProducerRecord<>(topic, "uid-2", new byte[] {(byte) 0xc3, 0x01, 1, 2})).get();
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int exit = KdiagCommand.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute("--home", home.toString(), "--bootstrap-server", kafka.bootstrapServers(), "get", "abnormals");

        assertThat(exit).isZero();
        assertThat(out.toString().lines()).hasSize(2).last().asString().startsWith("default").contains("disk-full", "Succeeded");
        assertThat(err.toString()).isEqualTo("warning: 2 records of kdiag.abnormal-status could not be read and were left out "
                + "(each is in kdiag.log with its partition and offset)\n");
    }
}
