package io.kdiag.nodeagent;

import java.time.Duration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.NamespacedName;
import io.kdiag.model.ShadowVerdict;
import io.kdiag.nodeagent.policy.Policy;
import io.kdiag.schemas.avro.AbnormalFailed;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.CommandFinished;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.ProcessorStarted;
import io.kdiag.schemas.avro.ProfilerFinished;
import io.kdiag.schemas.avro.ShadowFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.StageStarted;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Builders shared by the agent's tests in every package. */
public final class Fixtures {
    /** The namespace of the built-ins in the agents the tests build. */
    public static final String BUILTIN = "kube-diagnoser";
    private static final String GRANTING_EVERYTHING = """
            commandAllowlist: [{prefix: [echo]}, {prefix: [sh]}]
            grants: [{processors: ["*"], commands: ["*"], profilers: ["*"]}]
            """;

    private Fixtures() {
    }

    /**
     * A policy that grants everything to everyone, for tests of something else than the policy: every processor and
     * profiler, {@code echo} and {@code sh} with any arguments, signals 1, 2, 9 and 15.
     */
    public static Policy grantingEverything() {
        return Policy.parse(GRANTING_EVERYTHING, "a test policy granting everything");
    }

    /** {@link #grantingEverything()} in a file, for an agent's {@code kdiag.policy-file}. */
    public static Path grantingEverything(Path dir) throws IOException {
        return Files.writeString(dir.resolve("granting-everything.yaml"), GRANTING_EVERYTHING);
    }

    /** A reference to the built-in {@code name}. */
    public static NamespacedName ref(String name) {
        return new NamespacedName(BUILTIN, name);
    }

    /** A request from a custom resource {@code default/abnormal-<uid>}. */
    public static AbnormalRequest request(String uid, String node, AbnormalSpec spec) {
        return request(uid, node, ApiSerialization.json(spec));
    }

    /** As {@link #request(String, String, AbnormalSpec)}, with the spec as JSON (which need not be valid). */
    public static AbnormalRequest request(String uid, String node, String specJson) {
        return AbnormalRequest.newBuilder()
                .setUid(uid).setNamespace("default").setName("abnormal-" + uid).setNodeName(node)
                .setOrigin(Origin.CustomResource).setRequestedAt(Instant.now()).setSpec(specJson).setLabels(Map.of())
                .build();
    }

    /** Every record of {@code topic} up to its end now, from every partition. */
    public static List<ConsumerRecord<byte[], byte[]>> readAll(String servers, String topic) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", servers, "isolation.level",
                "read_committed"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            return records;
        }
    }

    /** A header of a record as UTF-8 text; {@code null} when it has none of that name. */
    public static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    /** A worker whose behaviour the test gives, recording each call in {@code calls}. */
    public static StageWorker worker(String name, Stage stage, List<String> calls, Function<WorkContext, WorkResult> body) {
        return new StageWorker() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Stage stage() {
                return stage;
            }

            @Override
            public WorkResult run(WorkContext ctx) {
                synchronized (calls) {
                    calls.add(name);
                }
                return body.apply(ctx);
            }
        };
    }

    /** {@code worker}, whose calls time out after {@code timeout}. */
    public static StageWorker withTimeout(StageWorker worker, Duration timeout) {
        return new StageWorker() {
            @Override
            public String name() {
                return worker.name();
            }

            @Override
            public Stage stage() {
                return worker.stage();
            }

            @Override
            public Duration timeout() {
                return timeout;
            }

            @Override
            public WorkResult run(WorkContext ctx) throws Exception {
                return worker.run(ctx);
            }
        };
    }

    /** A compact description of an event payload, for sequence assertions. */
    public static String describe(Object payload) {
        if (payload instanceof StageStarted s) {
            return "StageStarted " + s.getStage();
        } else if (payload instanceof ProcessorStarted p) {
            return "ProcessorStarted " + p.getProcessor().getName();
        } else if (payload instanceof ProcessorFinished p) {
            return "ProcessorFinished " + p.getProcessor().getName() + " " + (p.getSucceeded() ? "ok" : p.getReason());
        } else if (payload instanceof StageFinished s) {
            return "StageFinished " + s.getStage() + " " + s.getOutcome()
                    + (s.getProcessor() == null ? "" : " " + s.getProcessor().getName())
                    + (s.getReason() == null ? "" : " " + s.getReason());
        } else if (payload instanceof CommandFinished c) {
            return "CommandFinished " + c.getStage() + " " + c.getCommand().get(0);
        } else if (payload instanceof ProfilerFinished p) {
            return "ProfilerFinished " + p.getStage() + " " + p.getName();
        } else if (payload instanceof AbnormalFailed f) {
            return "AbnormalFailed " + f.getReason();
        } else if (payload instanceof ShadowFinished s) {
            return "ShadowFinished " + s.getStage() + " " + s.getProcessor().getName() + " " + ShadowVerdict.of(s).word()
                    + (s.getReason() == null ? "" : " " + s.getReason());
        }
        return payload.getClass().getSimpleName();
    }
}
