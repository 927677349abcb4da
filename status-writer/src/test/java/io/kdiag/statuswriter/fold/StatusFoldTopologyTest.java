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
import io.kdiag.model.FoldStateSerde;
import io.kdiag.model.StatusFold;
import io.kdiag.schemas.DeadLetterHeaders;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageOutcome;
import io.kdiag.schemas.avro.StageStarted;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.statuswriter.StatusWriterConfig;
import io.kdiag.testkit.Events;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
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
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private TestOutputTopic<byte[], byte[]> deadLetters;

    @BeforeEach
    void startDriver() {
        StatusWriterConfig config = StatusWriterConfig.from(ConfigSource.of(Map.of("kdiag.state-dir", stateDir.toString(),
                "kdiag.topic-prefix", TOPICS.prefix()), Map.of()));
        Properties props = StatusWriter.streamsProperties(config, Map.of(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092"));
        flushInterval = config.statusFlushInterval();
        props.put(WriterDeadLetters.REGISTRY_CONFIG, registry);
        driver = new TopologyTestDriver(StatusFoldTopology.build(TOPICS, flushInterval, handedOver::add, WriterDeadLetters.from(props)), props);
        events = driver.createInputTopic(TOPICS.diagnosisEvents().name(), new StringSerializer(),
                TOPICS.diagnosisEvents().valueSerde().serializer());
        status = driver.createOutputTopic(TOPICS.abnormalStatus().name(), TOPICS.abnormalStatus().keySerde().deserializer(),
                TOPICS.abnormalStatus().valueSerde().deserializer());
        deadLetters = driver.createOutputTopic(TOPICS.deadLetters().name(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
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
        flush();
        assertThat(status.isEmpty()).isTrue();
    }

    @Test
    void shouldKeepTheMarkOfAnAbnormalUntilItIsFinal() {
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        run.subList(0, 5).forEach(this::send);
        flush();
        // published, but acknowledged only by the next commit: a restart publishes it again
        assertThat(dirty().get("uid-1")).isEqualTo(0L);

        run.subList(5, run.size()).forEach(this::send);

        assertThat(dirty().get("uid-1")).isNull();
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
    void shouldPublishTheSameSnapshotAgainForDuplicatesAndChangeNothing() {
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        send(run.get(0));
        send(run.get(1));
        flush();
        AbnormalStatus published = status.readValue();
        byte[] folded = new FoldStateSerde().serializer().serialize("", store().get("uid-1"));

        send(run.get(1));
        send(run.get(0));
        flush();

        // the snapshot may not have reached the topic the first time; once per interval however many duplicates
        assertThat(status.readValuesToList()).containsExactly(published);
        assertThat(new FoldStateSerde().serializer().serialize("", store().get("uid-1"))).isEqualTo(folded);
        assertThat(metric("duplicate-events-total")).isEqualTo(2.0);
    }

    @Test
    void shouldPublishOnlySnapshotsOfTheEventsWhenEventsAreReadAgainFromAnEarlierOffset() {
        // at least once, a crash makes the writer read again what it read since its last commit, over a store that
        // holds some of it: here each abnormal is read again from an earlier event, once mid-run and once after its end
        List<DiagnosisEvent> first = Events.seedRun("uid-1");
        List<DiagnosisEvent> second = Events.seedRun("uid-2");
        first.subList(0, 7).forEach(this::send);
        second.forEach(this::send);
        flush();
        // read again up to an event before the last folded one: what is published is still the state of all folded
        first.subList(2, 5).forEach(this::send);
        second.subList(4, 8).forEach(this::send);
        flush();
        first.subList(7, first.size()).forEach(this::send);
        second.subList(0, second.size()).forEach(this::send);
        flush();

        List<KeyValue<String, AbnormalStatus>> published = status.readKeyValuesToList();
        Map<String, List<DiagnosisEvent>> runs = Map.of("uid-1", first, "uid-2", second);
        // every snapshot is the fold of the events up to its lastSeq, and the last of each is the fold of all of them
        for (KeyValue<String, AbnormalStatus> snapshot : published) {
            List<DiagnosisEvent> run = runs.get(snapshot.key);
            assertThat(snapshot.value).isEqualTo(StatusFold.fold(run.subList(0, (int) snapshot.value.getLastSeq() + 1)));
        }
        Map<String, AbnormalStatus> last = published.stream().collect(Collectors.toMap(kv -> kv.key, kv -> kv.value, (a, b) -> b));
        assertThat(last.get("uid-1")).isEqualTo(StatusFold.fold(first));
        assertThat(last.get("uid-2")).isEqualTo(StatusFold.fold(second));
        for (String uid : runs.keySet()) {
            FoldState replayedOnce = FoldState.empty();
            runs.get(uid).forEach(event -> replayedOnce.offer(event, FoldState.MAX_PENDING));
            assertThat(new FoldStateSerde().serializer().serialize("", store().get(uid)))
                    .isEqualTo(new FoldStateSerde().serializer().serialize("", replayedOnce));
        }
        assertThat(dirty().get("uid-1")).isNull();
        assertThat(dirty().get("uid-2")).isNull();
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
    void shouldPublishAnAbnormalNotFinalMarkedAtStartAndKeepItsMark() {
        // the stores as restored after a crash that came after the commit of an event and before its snapshot was sent
        List<DiagnosisEvent> run = Events.seedRun("uid-1").subList(0, 6);
        FoldState folded = FoldState.empty();
        run.forEach(event -> folded.offer(event, FoldState.MAX_PENDING));
        store().put("uid-1", folded);
        dirty().put("uid-1", 0L);

        flush();
        flush();

        assertThat(status.readValuesToList()).containsExactly(StatusFold.fold(run));
        assertThat(dirty().get("uid-1")).isEqualTo(0L);
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
        raw.pipeInput(Events.NODE, (byte[]) null);
        send(run.get(1));
        flush();

        assertThat(status.readValuesToList()).extracting(AbnormalStatus::getLastSeq).containsExactly(1L);
        assertThat(givenUp(WriterDeadLetters.UNDECODABLE)).isEqualTo(1.0);
        assertThat(givenUp(WriterDeadLetters.TOMBSTONE)).isEqualTo(1.0);
    }

    @Test
    void shouldDeadLetterAnAbnormalThatDoesNotStartWithAccepted() {
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        DiagnosisEvent bogusStart = DiagnosisEvent.newBuilder(run.get(1)).setSeq(0L).build();

        send(bogusStart);
        flush();

        assertThat(status.isEmpty()).isTrue();
        assertThat(store().get("uid-1")).isNull();
        assertThat(givenUp(WriterDeadLetters.REFUSED)).isEqualTo(1.0);
        TestRecord<byte[], byte[]> letter = deadLetters.readRecord();
        assertThat(TOPICS.diagnosisEvents().valueSerde().deserializer().deserialize("", letter.value())).isEqualTo(bogusStart);
        assertThat(new String(letter.headers().lastHeader(DeadLetterHeaders.REASON).value(), StandardCharsets.UTF_8))
                .contains("uid=uid-1 seq=0", "instead of Accepted");
        assertThat(new String(letter.headers().lastHeader(DeadLetterHeaders.SOURCE_TOPIC).value(), StandardCharsets.UTF_8))
                .isEqualTo(TOPICS.diagnosisEvents().name());
    }

    @Test
    void shouldDeadLetterAnEventTheFoldRefusesAndFoldTheRest() {
        Events events = new Events("uid-1");
        events.accepted();
        events.add(new StageStarted(Stage.InformationCollection));
        DiagnosisEvent garbage = events.processorFinished(Stage.InformationCollection, Events.POD_COLLECTOR, "not json");
        events.stageFinished(Stage.InformationCollection, StageOutcome.Succeeded, null);
        events.all().forEach(this::send);
        flush();

        assertThat(status.readValuesToList()).last().satisfies(s -> {
            assertThat(s.getLastSeq()).isEqualTo(3L);
            assertThat(s.getPhase()).isEqualTo(Phase.Diagnosing);
        });
        assertThat(deadLetters.readValuesToList()).singleElement()
                .satisfies(v -> assertThat(TOPICS.diagnosisEvents().valueSerde().deserializer().deserialize("", v)).isEqualTo(garbage));
        assertThat(givenUp(WriterDeadLetters.REFUSED)).isEqualTo(1.0);
    }

    @Test
    void shouldPublishAStatusThatOutgrewAKafkaRecordWithinItsBudget() {
        Events events = new Events("uid-big");
        events.accepted();
        events.add(new StageStarted(Stage.InformationCollection));
        for (int i = 0; i < 6; i++) {
            events.processorFinished(Stage.InformationCollection, new NamespacedName("kube-diagnoser", "collector-" + i),
                    "{\"output" + i + "\":\"" + "v".repeat(250 * 1024) + "\"}");
        }
        events.stageFinished(Stage.InformationCollection, StageOutcome.Failed, null);
        events.all().forEach(this::send);

        AbnormalStatus last = status.readValuesToList().get(0);
        assertThat(last.getPhase()).isEqualTo(Phase.Failed);
        assertThat(TOPICS.abnormalStatus().valueSerde().serializer().serialize("", last).length).isLessThan(1024 * 1024);
        assertThat(new FoldStateSerde().serialize("", store().get("uid-big")).length).isLessThan(1024 * 1024);
        assertThat(last.getContext()).contains("\"truncated\":true");
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

    private double givenUp(String reason) {
        return registry.get(WriterDeadLetters.METRIC).tag("reason", reason).counter().count();
    }

    private double metric(String name) {
        return driver.metrics().entrySet().stream()
                .filter(e -> e.getKey().name().equals(name))
                .map(Map.Entry::getValue)
                .mapToDouble(m -> ((Number) m.metricValue()).doubleValue())
                .sum();
    }
}
