package io.kdiag.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
            kafkasOwnTools(kafka, report, kind.getKey(), kind.getValue().length, records, n);
        }
    }

    /**
     * The same size measured by Kafka's own tools, each in a JVM of its own as {@code kafka-producer-perf-test.sh} and
     * {@code kafka-consumer-perf-test.sh} run them: what the broker can take, beside what the plain client above got.
     */
    private static void kafkasOwnTools(Map<String, Object> kafka, Report report, String kind, int size, int records, int n)
            throws Exception {
        String bootstrap = String.valueOf(kafka.get("bootstrap.servers"));
        String topic = "bench.limits-tools-" + n;
        try (Admin admin = Admin.create(kafka)) {
            admin.createTopics(Set.of(new NewTopic(topic, Pipeline.PARTITIONS, (short) 1))).all().get();
        }
        Leaders.await(kafka, List.of(topic));
        String produced = lastLine(tool("org.apache.kafka.tools.ProducerPerformance", "--bootstrap-server", bootstrap,
                "--topic", topic, "--num-records", String.valueOf(records), "--record-size", String.valueOf(size),
                "--throughput", "-1", "--record-key-range", "5000", "--key-distribution", "random", "--command-property", "acks=all", "enable.idempotence=true"));
        // "50000 records sent, 61234.5 records/sec (25.12 MB/sec), 150.3 ms avg latency, ..., 390 ms 99.9th."
        Matcher rate = Pattern.compile("([\\d.]+) records/sec .*?([\\d.]+) ms avg latency.*?(\\d+) ms 99th").matcher(produced);
        if (!rate.find()) {
            throw new IllegalStateException("ProducerPerformance printed no result: " + produced);
        }
        report.add("1 kafka", "ProducerPerformance " + kind + " (" + size + " B, acks=all, idempotent)",
                Report.rate(Double.parseDouble(rate.group(1)), "rec") + " (avg " + rate.group(2) + " ms, p99 " + rate.group(3) + " ms)",
                "Kafka's own tool", null);
        // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, ...
        String[] consumed = lastLine(tool("org.apache.kafka.tools.ConsumerPerformance", "--bootstrap-server", bootstrap,
                "--topic", topic, "--num-records", String.valueOf(records), "--timeout", "60000", "--hide-header",
                "--group", "bench.limits-tools-" + n)).split(",\\s*");
        if (consumed.length < 6) {
            throw new IllegalStateException("ConsumerPerformance printed no result: " + String.join(",", consumed));
        }
        report.add("1 kafka", "ConsumerPerformance " + kind + " (" + size + " B)",
                Report.rate(Double.parseDouble(consumed[5]), "rec"), "Kafka's own tool", null);
    }

    /** Runs a Kafka tool's main class on the bench's class path; its output. */
    private static String tool(String mainClass, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), mainClass));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(5, TimeUnit.MINUTES) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IllegalStateException(mainClass + " failed: " + output);
        }
        return output;
    }

    private static String lastLine(String output) {
        return output.strip().lines().filter(l -> !l.startsWith("[") && !l.contains(" WARN ") && !l.contains(" INFO "))
                .reduce((a, b) -> b).orElse("");
    }
}
