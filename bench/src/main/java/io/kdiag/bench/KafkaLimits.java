package io.kdiag.bench;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.kdiag.schemas.AvroSerde;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Kafka's own limit on this machine: a plain producer (idempotent, acks=all, as the agent's) and a plain consumer of
 * pre-encoded records of the project's sizes on a 12-partition topic of the embedded broker.
 */
final class KafkaLimits {
    private KafkaLimits() {
    }

    static void run(Map<String, Object> kafka, Report report, int records) throws Exception {
        AvroSerde<AbnormalRequest> requestSerde = AvroSerde.of(AbnormalRequest.class);
        AvroSerde<DiagnosisEvent> eventSerde = AvroSerde.of(DiagnosisEvent.class);
        AvroSerde<AbnormalStatus> statusSerde = AvroSerde.of(AbnormalStatus.class);
        List<DiagnosisEvent> events = SampleRecords.typicalEvents("limits-uid-0000000000000000000000", "node-0");
        byte[] request = requestSerde.encode(SampleRecords.request("limits-uid-0000000000000000000000", "node-0", SampleRecords.Work.NOOP));
        byte[] small = eventSerde.encode(events.get(1));
        byte[] accepted = eventSerde.encode(events.get(0));
        byte[] collected = eventSerde.encode(events.get(3));
        byte[] status = statusSerde.encode(SampleRecords.typicalStatus("limits-uid-0000000000000000000000", "node-0"));
        int sequence = events.stream().mapToInt(e -> eventSerde.encode(e).length).sum();
        report.add("1 sizes", "AbnormalRequest (no-op spec)", request.length + " B", "", null);
        report.add("1 sizes", "DiagnosisEvent StageStarted / Accepted", small.length + " B / " + accepted.length + " B", "", null);
        report.add("1 sizes", "DiagnosisEvent ProcessorFinished (24-process context)", collected.length + " B", "", null);
        report.add("1 sizes", "typical abnormal: 13 events / final AbnormalStatus", sequence + " B / " + status.length + " B", "", null);
        Map<String, byte[]> kinds = new java.util.LinkedHashMap<>();
        kinds.put("AbnormalRequest", request);
        kinds.put("DiagnosisEvent (avg of typical)", new byte[sequence / events.size()]);
        kinds.put("AbnormalStatus", status);
        int n = 0;
        for (Map.Entry<String, byte[]> kind : kinds.entrySet()) {
            String topic = "bench.limits-" + n++;
            try (Admin admin = Admin.create(kafka)) {
                admin.createTopics(Set.of(new NewTopic(topic, Pipeline.PARTITIONS, (short) 1))).all().get();
            }
            Leaders.await(kafka, List.of(topic));
            Map<String, Object> props = new HashMap<>(kafka);
            props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            props.put(ProducerConfig.ACKS_CONFIG, "all");
            long start = System.nanoTime();
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
                for (int i = 0; i < records; i++) {
                    producer.send(new ProducerRecord<>(topic, "node-" + (i % 5000), kind.getValue()));
                }
                producer.flush();
            }
            double produced = records / ((System.nanoTime() - start) / 1e9);
            Map<String, Object> consumerProps = new HashMap<>(kafka);
            consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            start = System.nanoTime();
            long read = 0;
            try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(consumerProps, new StringDeserializer(), new ByteArrayDeserializer())) {
                consumer.assign(Latency.partitions(consumer, topic));
                while (read < records) {
                    read += consumer.poll(Duration.ofMillis(200)).count();
                }
            }
            double consumed = read / ((System.nanoTime() - start) / 1e9);
            double mb = kind.getValue().length / 1048576.0;
            report.add("1 kafka", "produce " + kind.getKey() + " (" + kind.getValue().length + " B)",
                    Report.rate(produced, "rec") + String.format(" (%.1f MiB/s)", produced * mb), "the limit", null);
            report.add("1 kafka", "consume " + kind.getKey() + " (" + kind.getValue().length + " B)",
                    Report.rate(consumed, "rec") + String.format(" (%.1f MiB/s)", consumed * mb), "the limit", null);
        }
    }
}
