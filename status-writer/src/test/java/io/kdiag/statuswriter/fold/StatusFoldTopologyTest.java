package io.kdiag.statuswriter.fold;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;

import io.kdiag.common.config.ConfigSource;
import io.kdiag.model.EventSummary;
import io.kdiag.model.FoldState;
import io.kdiag.model.StatusFold;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageStarted;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.statuswriter.StatusWriterConfig;
import io.kdiag.testkit.Events;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StatusFoldTopologyTest {
    private static final Topics TOPICS = new Topics("test.");

    @TempDir
    Path stateDir;

    private TopologyTestDriver driver;
    private TestInputTopic<String, DiagnosisEvent> events;
    private TestOutputTopic<String, AbnormalStatus> status;
    private Duration flushInterval;
    private final List<AbnormalStatus> handedOver = new ArrayList<>();

    @BeforeEach
    void startDriver() {
        StatusWriterConfig config = StatusWriterConfig.from(ConfigSource.of(Map.of("kdiag.state-dir", stateDir.toString(),
                "kdiag.application-id", "status-writer-test", "kdiag.topic-prefix", TOPICS.prefix()), Map.of()));
        Properties props = StatusWriter.streamsProperties(config, Map.of(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092"));
        flushInterval = config.statusFlushInterval();
        driver = new TopologyTestDriver(StatusFoldTopology.build(TOPICS, flushInterval, handedOver::add), props);
        events = driver.createInputTopic(TOPICS.diagnosisEvents().name(), new StringSerializer(),
                TOPICS.diagnosisEvents().valueSerde().serializer());
        status = driver.createOutputTopic(TOPICS.abnormalStatus().name(), TOPICS.abnormalStatus().keySerde().deserializer(),
                TOPICS.abnormalStatus().valueSerde().deserializer());
    }

    @AfterEach
    void closeDriver() {
        driver.close();
    }

    @Test
    void shouldPublishOneSnapshotWithTheStateAtTheEndOfAnInterval() {
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        run.subList(0, 5).forEach(this::send);
        assertThat(status.isEmpty()).isTrue();

        flush();

        assertThat(status.readValuesToList()).containsExactly(StatusFold.fold(run.subList(0, 5)));
        assertThat(dirty().get("uid-1")).isNull();
        flush();
        assertThat(status.isEmpty()).isTrue();
    }

    @Test
    void shouldPublishTheFinalSnapshotWithoutWaitingForTheInterval() {
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        run.forEach(this::send);

        List<KeyValue<String, AbnormalStatus>> snapshots = status.readKeyValuesToList();
        assertThat(snapshots).hasSize(1);
        assertThat(snapshots.get(0).key).isEqualTo("uid-1");
        AbnormalStatus last = snapshots.get(0).value;
        assertThat(last).isEqualTo(StatusFold.fold(run));
        assertThat(last.getLastSeq()).isEqualTo(10L);
        assertThat(last.getPhase()).isEqualTo(Phase.Succeeded);
        assertThat(store().get("uid-1").current()).isEqualTo(last);
        assertThat(handedOver).containsExactly(last);
        assertThat(dirty().get("uid-1")).isNull();

        flush();
        assertThat(status.isEmpty()).isTrue();
    }

    @Test
    void shouldPublishAgainOnlyAfterAnotherChange() {
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        send(run.get(0));
        flush();
        send(run.get(1));
        send(run.get(2));
        flush();

        assertThat(status.readValuesToList()).extracting(AbnormalStatus::getLastSeq).containsExactly(0L, 2L);
        assertThat(handedOver).extracting(AbnormalStatus::getLastSeq).containsExactly(0L, 2L);
    }

    @Test
    void shouldPublishNothingForDuplicates() {
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        send(run.get(0));
        send(run.get(1));
        flush();
        status.readKeyValuesToList();

        send(run.get(1));
        send(run.get(0));
        flush();

        assertThat(status.isEmpty()).isTrue();
        assertThat(store().get("uid-1").lastSeq()).isEqualTo(1);
        assertThat(metric("duplicate-events-total")).isEqualTo(2.0);
    }

    @Test
    void shouldResolveOutOfOrderEvents() {
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        send(run.get(3));
        send(run.get(1));
        send(run.get(2));
        flush();
        assertThat(status.isEmpty()).isTrue();
        assertThat(store().get("uid-1").pending()).hasSize(3);

        send(run.get(0));
        flush();
        assertThat(status.readValuesToList()).extracting(AbnormalStatus::getLastSeq).containsExactly(3L);

        List.of(10, 9, 8, 7, 6, 5, 4).forEach(i -> send(run.get(i)));
        flush();
        List<AbnormalStatus> snapshots = status.readValuesToList();
        assertThat(snapshots).hasSize(1);
        assertThat(snapshots.get(0)).isEqualTo(StatusFold.fold(run));
        assertThat(store().get("uid-1").pending()).isEmpty();
    }

    @Test
    void shouldKeepAbnormalsOfOneNodeApart() {
        List<DiagnosisEvent> first = Events.seedRun("uid-1");
        List<DiagnosisEvent> second = Events.seedRun("uid-2");
        for (int i = 0; i < first.size(); i++) {
            send(second.get(i));
            send(first.get(i));
        }
        flush();

        List<KeyValue<String, AbnormalStatus>> snapshots = status.readKeyValuesToList();
        assertThat(snapshots).hasSize(2);
        Map<String, AbnormalStatus> latest = snapshots.stream().collect(Collectors.toMap(kv -> kv.key, kv -> kv.value));
        assertThat(latest).containsOnlyKeys("uid-1", "uid-2");
        assertThat(latest.get("uid-1")).isEqualTo(StatusFold.fold(first));
        assertThat(latest.get("uid-2")).isEqualTo(StatusFold.fold(second));
    }

    @Test
    void shouldPublishAnAbnormalLeftDirtyAtTheNextPunctuation() {
        // the stores as restored from their changelogs after a crash between a change and its publication
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        FoldState folded = FoldState.empty();
        run.forEach(event -> folded.offer(event, FoldState.MAX_PENDING));
        store().put("uid-1", folded);
        dirty().put("uid-1", folded.lastSeq());

        flush();

        assertThat(status.readKeyValuesToList()).singleElement()
                .satisfies(kv -> assertThat(kv.key).isEqualTo("uid-1"))
                .satisfies(kv -> assertThat(kv.value).isEqualTo(StatusFold.fold(run)));
        assertThat(dirty().get("uid-1")).isNull();
    }

    @Test
    void shouldDropADirtyMarkWithoutSnapshotAndKeepPublishing() {
        dirty().put("uid-gone", 3L);
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        send(run.get(0));

        flush();

        assertThat(status.readKeyValuesToList()).extracting(kv -> kv.key).containsExactly("uid-1");
        assertThat(dirty().get("uid-gone")).isNull();
    }

    @Test
    void shouldSkipUndecodableRecordsAndCountThem() {
        // the copy to the dead-letter topic is checked in StatusWriterIT: the test driver drops records a
        // deserialization handler sends under exactly_once_v2
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        TestInputTopic<String, byte[]> raw = driver.createInputTopic(TOPICS.diagnosisEvents().name(), new StringSerializer(),
                new ByteArraySerializer());
        send(run.get(0));
        raw.pipeInput(Events.NODE, "not avro".getBytes(StandardCharsets.UTF_8));
        send(run.get(1));
        flush();

        assertThat(status.readValuesToList()).extracting(AbnormalStatus::getLastSeq).containsExactly(1L);
        assertThat(metric("dropped-records-total")).isEqualTo(1.0);
    }

    @Test
    void shouldDropAnAbnormalThatDoesNotStartWithAccepted() {
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        DiagnosisEvent bogusStart = DiagnosisEvent.newBuilder(run.get(1)).setSeq(0L).build();

        send(bogusStart);
        flush();

        assertThat(status.isEmpty()).isTrue();
        assertThat(store().get("uid-1")).isNull();
        assertThat(metric("invalid-events-total")).isEqualTo(1.0);
    }

    @Test
    void shouldKeepSummariesOfTheLatestEventsOfEachAbnormal() {
        Events many = new Events("uid-many");
        many.accepted();
        for (int i = 0; i < FoldState.HISTORY_LIMIT + 100; i++) {
            many.add(new StageStarted(Stage.InformationCollection));
        }
        many.all().forEach(this::send);
        Events.seedRun("uid-few").forEach(this::send);

        assertThat(historySeqs("uid-many")).hasSize(FoldState.HISTORY_LIMIT).startsWith(101L).endsWith(600L);
        assertThat(historySeqs("uid-few")).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
    }

    private List<Long> historySeqs(String uid) {
        return store().get(uid).history().stream().map(EventSummary::seq).toList();
    }

    private void send(DiagnosisEvent event) {
        events.pipeInput(event.getNodeName(), event);
    }

    /** Lets wall-clock time pass one flush interval, which runs the publishing punctuation. */
    private void flush() {
        driver.advanceWallClockTime(flushInterval);
    }

    private KeyValueStore<String, FoldState> store() {
        return driver.getKeyValueStore(StatusFoldTopology.STORE_NAME);
    }

    private KeyValueStore<String, Long> dirty() {
        return driver.getKeyValueStore(StatusFoldTopology.DIRTY_STORE_NAME);
    }

    private double metric(String name) {
        return driver.metrics().entrySet().stream()
                .filter(e -> e.getKey().name().equals(name))
                .map(Map.Entry::getValue)
                .mapToDouble(m -> ((Number) m.metricValue()).doubleValue())
                .sum();
    }
}
