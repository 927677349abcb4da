package io.kdiag.sourcebridge.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.schemas.AvroSerde;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.signing.VerificationKeys;
import io.kdiag.testkit.TestKafka;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The log source end to end: host-root fixtures for files, kmsg and the journal, and a real broker. */
class LogSourceIT {
    private static final int PARTITIONS = 3;
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String OOM = "Out of memory: Killed process 1234 (java) total-vm:4862012kB, anon-rss:3045672kB, file-rss:0kB, "
            + "shmem-rss:0kB, UID:1000 pgtables:6340kB oom_score_adj:0";
    private static final String HUNG = "INFO: task jbd2/sda1-8:312 blocked for more than 120 seconds.";
    private static final String EXT4 = "EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2: comm ls: reading directory lblock 0";
    private static final String READ_ONLY = "EXT4-fs (sda1): Remounting filesystem read-only";
    private static TestKafka kafka;
    private static int run;

    @TempDir
    Path dir;

    @BeforeAll
    static void startKafka() {
        kafka = TestKafka.start();
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    private Topics topics() {
        Topics topics = new Topics("log" + (++run) + ".");
        TopicAdmin.ensureTopics(Map.of("bootstrap.servers", kafka.bootstrapServers()), topics, PARTITIONS, (short) 1);
        return topics;
    }

    private LogSource start(Topics topics, Path monitor, String... settings) {
        Map<String, String> properties = new HashMap<>(Map.of("kdiag.topic-prefix", topics.prefix(), "kdiag.node-name", "node-1",
                "kdiag.host-root", dir.resolve("host").toString(), "kdiag.log.state-dir", dir.resolve("state").toString(),
                "kdiag.log.monitors", monitor.toString(), "kdiag.log.poll-interval", "100ms",
                // every line is its own fault here; the repeat interval is the gate's, covered by the bridge's tests
                "kdiag.repeat-interval", "1ms"));
        for (int i = 0; i < settings.length; i += 2) {
            properties.put(settings[i], settings[i + 1]);
        }
        return LogSource.start(LogSourceConfig.from(ConfigSource.of(properties, Map.of())),
                Map.of("bootstrap.servers", kafka.bootstrapServers()), new SimpleMeterRegistry(), null);
    }

    private Path file(String path, String text) throws IOException {
        Path file = dir.resolve(path);
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
        return file;
    }

    private static void append(Path file, String line) throws IOException {
        Files.writeString(file, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private static List<String> reasons(List<AbnormalRequest> requests) {
        return requests.stream().map(r -> (String) ((Map<?, ?>) ApiSerialization.spec(r.getSpec()).context.get("logEntry")).get("reason"))
                .toList();
    }

    /**
     * What the log source forwarded, each record checked to be signed with the key it made in its state folder (one key
     * across restarts).
     */
    private List<AbnormalRequest> forwarded(Topics topics) throws IOException {
        VerificationKeys logSourceKey = VerificationKeys.read(List.of(dir.resolve("state/signing-key.pub")));
        List<AbnormalRequest> requests = new java.util.ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> all = IntStream.range(0, PARTITIONS).mapToObj(p -> new TopicPartition(topics.abnormals().name(), p)).toList();
            consumer.assign(all);
            consumer.seekToBeginning(all);
            Map<TopicPartition, Long> end = consumer.endOffsets(all);
            while (all.stream().anyMatch(partition -> consumer.position(partition) < end.get(partition))) {
                consumer.poll(Duration.ofMillis(100)).forEach(r -> {
                    assertThat(logSourceKey.check(r.key(), r.value(), r.headers())).isEqualTo(VerificationKeys.Check.VERIFIED);
                    requests.add(AvroSerde.of(AbnormalRequest.class).decode(r.value()));
                });
            }
        }
        return requests;
    }

    private List<AbnormalRequest> awaitForwarded(Topics topics, int count) throws IOException {
        await().atMost(WAIT).until(() -> forwarded(topics).size() >= count);
        await().during(Duration.ofSeconds(2)).atMost(WAIT).until(() -> forwarded(topics).size() == count);
        return forwarded(topics);
    }

    private void awaitCheckpoints(int count) {
        await().atMost(WAIT).until(() -> Files.isDirectory(dir.resolve("state"))
                && Files.list(dir.resolve("state")).filter(f -> f.toString().endsWith(".checkpoint")).count() >= count);
    }

    @Test
    void shouldFollowAFileThroughRotationAndTruncationAndReportEachLineOnceAcrossARestart() throws Exception {
        Topics topics = topics();
        Path monitor = file("etc/kern-monitor.json", """
                {"plugin": "filelog", "logPath": "/var/log/kern.log", "lookback": "5m", "bufferSize": 10, "source": "kernel-monitor",
                 "pluginConfig": {"timestamp": "^.{15}", "message": "kernel: \\\\[.*\\\\] (.*)", "timestampFormat": "Jan _2 15:04:05"},
                 "conditions": [], "rules": [
                   {"type": "temporary", "reason": "OOMKilling", "pattern": "Killed process \\\\d+ (.+) total-vm:\\\\d+kB, anon-rss:\\\\d+kB, file-rss:\\\\d+kB.*"},
                   {"type": "temporary", "reason": "TaskHung", "pattern": "task [\\\\S ]+:\\\\w+ blocked for more than \\\\w+ seconds\\\\."},
                   {"type": "temporary", "reason": "Ext4Error", "pattern": "EXT4-fs error .*"},
                   {"type": "permanent", "condition": "ReadonlyFilesystem", "reason": "FilesystemIsReadOnly", "pattern": "Remounting filesystem read-only"}]}""");
        Path log = file("host/var/log/kern.log", line(OOM) + "\n"); // before the first start: history, not reported
        Path templates = file("etc/templates.json", """
                {"templates": {"OOMKilling": {"assignedInformationCollectors": [{"namespace": "kube-diagnoser", "name": "process-collector"}]}}}""");

        try (LogSource source = start(topics, monitor, "kdiag.log.templates", templates.toString())) {
            awaitCheckpoints(1);
            append(log, line(OOM));
            AbnormalRequest oom = awaitForwarded(topics, 1).get(0);
            assertThat(oom.getOrigin()).isEqualTo(Origin.Log);
            assertThat(oom.getNodeName()).isEqualTo("node-1");
            assertThat(oom.getNamespace()).isEqualTo("kube-diagnoser");
            assertThat(oom.getName()).matches("log\\.oomkilling\\.[0-9a-f]{10}");
            AbnormalSpec spec = ApiSerialization.spec(oom.getSpec());
            assertThat(spec.source).isEqualTo("Log");
            assertThat(spec.assignedInformationCollectors).extracting(n -> n.name).containsExactly("process-collector");
            Map<?, ?> entry = (Map<?, ?>) spec.context.get("logEntry");
            assertThat(entry.get("message")).isEqualTo(OOM);
            assertThat(entry.get("source")).isEqualTo("kernel-monitor");

            // logrotate's rename: the rest of the old file first, then the new one
            Path rotated = log.resolveSibling("kern.log.1");
            Files.move(log, rotated);
            append(rotated, line(HUNG));
            append(log, line(EXT4 + " with a long tail to be longer than what replaces it"));
            assertThat(reasons(awaitForwarded(topics, 3))).containsExactly("OOMKilling", "TaskHung", "Ext4Error");

            // copytruncate: the file starts again, shorter than before
            try (FileChannel channel = FileChannel.open(log, StandardOpenOption.WRITE)) {
                channel.truncate(0);
            }
            append(log, line(READ_ONLY));
            assertThat(reasons(awaitForwarded(topics, 4))).endsWith("FilesystemIsReadOnly");
        }
        append(log, line(OOM)); // written while the source is down
        try (LogSource again = start(topics, monitor)) {
            assertThat(reasons(awaitForwarded(topics, 5))).containsExactly("OOMKilling", "TaskHung", "Ext4Error", "FilesystemIsReadOnly",
                    "OOMKilling");
        }
    }

    private static String line(String message) {
        return "Mar  1 12:00:00 node-1 kernel: [ 1234.567890] " + message;
    }

    @Test
    void shouldFollowKmsgWithNpdsKernelMonitorAndSkipHandledSequenceNumbersAfterARestart() throws Exception {
        Topics topics = topics();
        Path monitor = file("etc/kernel-monitor.json", Files.readString(MonitorConfigTest.kernelMonitor()));
        file("host/proc/sys/kernel/random/boot_id", "3f1c1b6e-0000-4000-8000-000000000001\n");
        Path kmsg = file("host/dev/kmsg", "6,1,1000,-;Linux version 6.1.0\n"
                + "3,2,2000,-;" + OOM + "\n"
                + " SUBSYSTEM=memory\n"
                + "3,3,3000,-;" + HUNG + "\n");

        try (LogSource source = start(topics, monitor)) {
            assertThat(reasons(awaitForwarded(topics, 2))).containsExactly("OOMKilling", "TaskHung");
        }
        append(kmsg, "3,4,4000,-;" + EXT4);
        try (LogSource again = start(topics, monitor)) {
            assertThat(reasons(awaitForwarded(topics, 3))).containsExactly("OOMKilling", "TaskHung", "Ext4Error");
        }
    }

    @Test
    void shouldFollowTheJournalFromItsSavedCursor() throws Exception {
        Topics topics = topics();
        Path monitor = file("etc/journal-monitor.json", """
                {"plugin": "journald", "pluginConfig": {"source": "kernel"}, "logPath": "/var/log/journal", "lookback": "5m",
                 "bufferSize": 10, "source": "kernel-monitor", "conditions": [], "rules": [
                   {"type": "temporary", "reason": "OOMKilling", "pattern": "Killed process \\\\d+ (.+) total-vm:\\\\d+kB, anon-rss:\\\\d+kB, file-rss:\\\\d+kB.*"},
                   {"type": "permanent", "condition": "ReadonlyFilesystem", "reason": "FilesystemIsReadOnly", "pattern": "Remounting filesystem read-only"}]}""");
        Files.createDirectories(dir.resolve("host/var/log/journal"));
        Path entries = file("journal.json", entry("s=1;i=1", OOM) + entry("s=1;i=2", "systemd[1]: Started Session 3 of user root."));
        Path arguments = dir.resolve("arguments");
        // a journalctl that prints the entries after --after-cursor (all of them without one), then follows forever
        Path journalctl = file("bin/journalctl", """
                #!/bin/sh
                echo "$@" >> %s
                cursor=""
                for a in "$@"; do case "$a" in --after-cursor=*) cursor="${a#--after-cursor=}";; esac; done
                if [ -z "$cursor" ]; then cat %s; else sed -n "/\\"__CURSOR\\":\\"$cursor\\"/,\\$p" %s | tail -n +2; fi
                exec sleep 600
                """.formatted(arguments, entries, entries));
        Files.setPosixFilePermissions(journalctl, PosixFilePermissions.fromString("rwxr-xr-x"));

        try (LogSource source = start(topics, monitor, "kdiag.log.journalctl", journalctl.toString())) {
            assertThat(reasons(awaitForwarded(topics, 1))).containsExactly("OOMKilling");
            awaitCheckpoints(1);
            await().atMost(WAIT).until(() -> Files.list(dir.resolve("state")).anyMatch(f -> {
                try {
                    return Files.readString(f).contains("s\\=1;i\\=2");
                } catch (IOException e) {
                    return false;
                }
            }));
        }
        append(entries, entry("s=1;i=3", READ_ONLY).strip());
        try (LogSource again = start(topics, monitor, "kdiag.log.journalctl", journalctl.toString())) {
            assertThat(reasons(awaitForwarded(topics, 2))).containsExactly("OOMKilling", "FilesystemIsReadOnly");
        }
        List<String> calls = Files.readAllLines(arguments, StandardCharsets.UTF_8);
        assertThat(calls.get(0)).contains("-f -o json --no-pager -n 0 -D " + dir.resolve("host/var/log/journal"))
                .endsWith("SYSLOG_IDENTIFIER=kernel");
        assertThat(calls.get(calls.size() - 1)).contains("--after-cursor=s=1;i=2");
    }

    private static String entry(String cursor, String message) {
        return ApiSerialization.json(Map.of("__CURSOR", cursor, "MESSAGE", message, "SYSLOG_IDENTIFIER", "kernel")) + "\n";
    }
}
