package io.kdiag.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.kdiag.schemas.SendAndWait;
import io.kdiag.schemas.Topic;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.RecoveryControl;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code kdiag recoveries pause|resume|status}: the kill switch of every recovery, one record on the recovery-control
 * topic that every agent follows (docs/recovery-control.md).
 */
@Command(name = "recoveries", mixinStandardHelpOptions = true,
        description = "Pause or resume every recovery of the installation, cluster-wide, or show whether they are paused.",
        subcommands = {RecoveriesCommand.Pause.class, RecoveriesCommand.Resume.class, RecoveriesCommand.Status.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:written and acknowledged by Kafka (pause, resume); shown (status)",
            "1:Kafka refused (no right to write the recovery-control topic) or cannot be reached; the latest record cannot be read",
            "2:invalid usage"})
final class RecoveriesCommand {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern SASL_USERNAME = Pattern.compile("username\\s*=\\s*\"([^\"]+)\"");

    @ParentCommand
    KdiagCommand kdiag;

    /** {@code kdiag recoveries pause}. */
    @Command(name = "pause", mixinStandardHelpOptions = true,
            description = "Stop every agent from starting a recovery: within a second each one ends the recovery stage of its "
                    + "abnormals Failed (RecoveryPaused), naming who paused and when. A recoverer already running is not interrupted.")
    static final class Pause extends Change {
        Pause() {
            super(true);
        }
    }

    /** {@code kdiag recoveries resume}. */
    @Command(name = "resume", mixinStandardHelpOptions = true,
            description = "Let every agent start recoveries again. Abnormals whose recovery was refused are not run again: resubmit them.")
    static final class Resume extends Change {
        Resume() {
            super(false);
        }
    }

    /** Writes a pause or a resume. */
    abstract static class Change implements Callable<Integer> {
        private final boolean paused;

        @ParentCommand
        RecoveriesCommand recoveries;

        @Spec
        CommandSpec spec;

        @Option(names = "--reason", paramLabel = "TEXT", description = "Why, for whoever reads the status and the failed abnormals.")
        String reason;

        Change(boolean paused) {
            this.paused = paused;
        }

        @Override
        public Integer call() throws InterruptedException, ExecutionException, TimeoutException {
            KdiagCommand.Connection connection = recoveries.kdiag.connection();
            Topic<String, RecoveryControl> topic = connection.topics().recoveryControl();
            write(connection.kafka(), topic, new RecoveryControl(paused, changedBy(connection.kafka()), Instant.now(), reason));
            PrintWriter out = spec.commandLine().getOut();
            out.println(paused ? "recoveries paused" : "recoveries resumed");
            return 0;
        }

        /** Writes the switch's new position and waits until Kafka has it. */
        static void write(Map<String, Object> kafka, Topic<String, RecoveryControl> topic, RecoveryControl control)
                throws InterruptedException, ExecutionException, TimeoutException {
            Map<String, Object> settings = new HashMap<>(kafka);
            settings.put(ProducerConfig.ACKS_CONFIG, "all");
            try (KafkaProducer<String, RecoveryControl> producer = new KafkaProducer<>(settings, topic.keySerde().serializer(),
                    topic.valueSerde().serializer())) {
                SendAndWait.send(producer, new ProducerRecord<>(topic.name(), Topics.RECOVERY_CONTROL_KEY, control), TIMEOUT);
            }
        }
    }

    /** {@code kdiag recoveries status}. */
    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Show whether recoveries are paused, who changed that and when: the latest record of the recovery-control topic.")
    static final class Status implements Callable<Integer> {
        @ParentCommand
        RecoveriesCommand recoveries;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            KdiagCommand.Connection connection = recoveries.kdiag.connection();
            RecoveryControl latest = latest(connection.kafka(), connection.topics().recoveryControl());
            spec.commandLine().getOut().print(table(latest));
            return 0;
        }
    }

    /** The status table: {@code STATE CHANGED-BY CHANGED-AT REASON}; with no record, recoveries run and nobody changed that. */
    static String table(RecoveryControl latest) {
        String none = "<none>";
        String[] row = latest == null ? new String[] {"Running", none, none, none}
                : new String[] {latest.getPaused() ? "Paused" : "Running", latest.getChangedBy(),
                    latest.getChangedAt().truncatedTo(ChronoUnit.SECONDS).toString(),
                    latest.getReason() == null ? none : latest.getReason()};
        return StatusPrinter.columns(List.of(new String[] {"STATE", "CHANGED-BY", "CHANGED-AT", "REASON"}, row));
    }

    /**
     * Who the record says changed it: the Kafka user this client logs in as ({@code User:name} of the SASL login), else
     * the operating system's user. The topic's ACL, not this name, is what keeps others from writing it.
     */
    static String changedBy(Map<String, Object> kafka) {
        Object jaas = kafka.get(SaslConfigs.SASL_JAAS_CONFIG);
        if (jaas != null) {
            Matcher user = SASL_USERNAME.matcher(jaas.toString());
            if (user.find()) {
                return "User:" + user.group(1);
            }
        }
        return System.getProperty("user.name");
    }

    /**
     * The latest record keyed {@code recoveries}, reading every partition from the beginning to the end it has now; null when
     * there is none (or it was deleted).
     *
     * @throws IllegalStateException if the topic does not exist or the latest record cannot be read
     */
    static RecoveryControl latest(Map<String, Object> kafka, Topic<String, RecoveryControl> topic) {
        Map<String, Object> settings = new HashMap<>(kafka);
        settings.remove(ConsumerConfig.GROUP_ID_CONFIG);
        settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(settings, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<PartitionInfo> partitions = consumer.partitionsFor(topic.name(), TIMEOUT);
            if (partitions.isEmpty()) {
                throw new IllegalStateException("topic " + topic.name() + " does not exist");
            }
            List<TopicPartition> assigned = partitions.stream().map(p -> new TopicPartition(topic.name(), p.partition())).toList();
            consumer.assign(assigned);
            consumer.seekToBeginning(assigned);
            Map<TopicPartition, Long> end = consumer.endOffsets(assigned, TIMEOUT);
            ConsumerRecord<String, byte[]> latest = null;
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (end.entrySet().stream().anyMatch(e -> consumer.position(e.getKey()) < e.getValue())) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("cannot read " + topic.name() + " to its end within " + TIMEOUT.toSeconds() + " s");
                }
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    if (Topics.RECOVERY_CONTROL_KEY.equals(record.key())) {
                        latest = record;
                    }
                }
            }
            if (latest == null || latest.value() == null) {
                return null;
            }
            try {
                return topic.valueSerde().deserializer().deserialize(topic.name(), latest.value());
            } catch (RuntimeException e) {
                throw new IllegalStateException("the latest record of " + topic.name() + " (offset " + latest.offset()
                        + ") cannot be read, so every agent refuses recoveries: " + e.getMessage()
                        + "; 'kdiag recoveries pause' or 'resume' writes a readable one", e);
            }
        }
    }
}
