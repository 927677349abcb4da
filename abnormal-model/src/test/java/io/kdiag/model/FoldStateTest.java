package io.kdiag.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.ProcessorStarted;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageOutcome;
import io.kdiag.schemas.avro.StageStarted;
import io.kdiag.testkit.Events;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class FoldStateTest {
    private static final FoldStateSerde SERDE = new FoldStateSerde();

    @Test
    void shouldFoldAnyPermutationWithDuplicatesLikeTheInOrderFold() {
        Random random = new Random(20200813L);
        for (int run = 0; run < 500; run++) {
            List<DiagnosisEvent> inOrder = randomRun(random, "uid-" + run);
            AbnormalStatus expected = StatusFold.fold(inOrder);

            List<DiagnosisEvent> arrivals = new ArrayList<>(inOrder);
            int duplicates = random.nextInt(inOrder.size() + 1);
            for (int i = 0; i < duplicates; i++) {
                arrivals.add(inOrder.get(random.nextInt(inOrder.size())));
            }
            Collections.shuffle(arrivals, random);

            FoldState state = FoldState.empty();
            for (DiagnosisEvent event : arrivals) {
                state.offer(event, FoldState.MAX_PENDING);
                // some steps go through the store format, as a state the status writer no longer holds does; the
                // others keep the object, with the context members it parsed
                if (random.nextBoolean()) {
                    state = SERDE.deserialize("store", SERDE.serialize("store", state));
                }
            }

            assertThat(state.current()).as("run %d, arrivals %s", run, seqs(arrivals)).isEqualTo(expected);
            assertThat(state.pending()).isEmpty();
            assertThat(state.history()).extracting(EventSummary::seq).containsExactlyElementsOf(seqs(inOrder));
        }
    }

    @Test
    void shouldParseTheContextOnlyWhereItDidNotWriteIt() {
        Events events = new Events("uid-1");
        events.accepted();
        events.add(new StageStarted(Stage.InformationCollection));
        for (int p = 0; p < 4; p++) {
            events.processorFinished(Stage.InformationCollection, Events.POD_COLLECTOR, "{\"p" + p + "\":{\"pids\":[" + p + "]}}");
        }
        FoldState state = FoldState.empty();

        events.all().forEach(e -> state.offer(e, FoldState.MAX_PENDING));

        assertThat(state.current()).isEqualTo(StatusFold.fold(events.all()));
        assertThat(state.contextParses()).as("the Accepted snapshot's context only; every later merge reuses its members").isEqualTo(1);
        FoldState decoded = SERDE.deserialize("store", SERDE.serialize("store", state));
        decoded.offer(events.processorFinished(Stage.InformationCollection, Events.POD_COLLECTOR, "{\"p0\":null}", "p1"),
                FoldState.MAX_PENDING);
        assertThat(decoded.contextParses()).as("a decoded context is parsed").isEqualTo(1);
        assertThat(decoded.current()).isEqualTo(StatusFold.fold(events.all()));
    }

    @Test
    void shouldDropDuplicatesAndStaleEvents() {
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        FoldState state = FoldState.empty();

        assertThat(state.offer(run.get(0), 10).outcome()).isEqualTo(FoldState.Outcome.APPLIED);
        assertThat(state.offer(run.get(1), 10).outcome()).isEqualTo(FoldState.Outcome.APPLIED);
        AbnormalStatus after = state.current();
        assertThat(state.offer(run.get(0), 10).outcome()).isEqualTo(FoldState.Outcome.DUPLICATE);
        assertThat(state.offer(run.get(1), 10).outcome()).isEqualTo(FoldState.Outcome.DUPLICATE);
        assertThat(state.offer(run.get(3), 10).outcome()).isEqualTo(FoldState.Outcome.BUFFERED);
        assertThat(state.offer(run.get(3), 10).outcome()).isEqualTo(FoldState.Outcome.DUPLICATE);
        assertThat(state.current()).isSameAs(after);
    }

    @Test
    void shouldBufferEventsUntilTheGapIsFilled() {
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        FoldState state = FoldState.empty();

        assertThat(state.offer(run.get(2), 10).outcome()).isEqualTo(FoldState.Outcome.BUFFERED);
        assertThat(state.offer(run.get(1), 10).outcome()).isEqualTo(FoldState.Outcome.BUFFERED);
        assertThat(state.current()).isNull();
        assertThat(state.lastSeq()).isEqualTo(-1);

        assertThat(state.offer(run.get(0), 10).outcome()).isEqualTo(FoldState.Outcome.APPLIED);
        assertThat(state.lastSeq()).isEqualTo(2);
        assertThat(state.pending()).isEmpty();
    }

    @Test
    void shouldKeepTheNearestEventsWhenTheBufferOverflows() {
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        FoldState state = FoldState.empty();
        state.offer(run.get(0), 2);

        assertThat(state.offer(run.get(4), 2).outcome()).isEqualTo(FoldState.Outcome.BUFFERED);
        assertThat(state.offer(run.get(3), 2).outcome()).isEqualTo(FoldState.Outcome.BUFFERED);
        assertThat(state.offer(run.get(5), 2).outcome()).isEqualTo(FoldState.Outcome.OVERFLOW);
        assertThat(state.offer(run.get(2), 2).outcome()).isEqualTo(FoldState.Outcome.OVERFLOW);
        assertThat(state.pending()).extracting(DiagnosisEvent::getSeq).containsExactly(2L, 3L);

        assertThat(state.offer(run.get(1), 2).outcome()).isEqualTo(FoldState.Outcome.APPLIED);
        assertThat(state.lastSeq()).isEqualTo(3);
    }

    @Test
    void shouldRefuseAFirstEventThatIsNotAcceptedAndLeaveTheStateAlone() {
        Events events = new Events("uid-1");
        events.accepted();
        DiagnosisEvent notAccepted = new DiagnosisEvent("uid-1", 0L, Events.NODE, Events.START, new StageStarted(Stage.Diagnosis));
        FoldState state = FoldState.empty();
        state.offer(events.add(new StageStarted(Stage.InformationCollection)), 10);

        FoldState.Offer offer = state.offer(notAccepted, 10);

        assertThat(offer.outcome()).isEqualTo(FoldState.Outcome.REFUSED);
        assertThat(offer.givenUp()).singleElement().satisfies(g -> {
            assertThat(g.event()).isEqualTo(notAccepted);
            assertThat(g.reason()).contains("instead of Accepted");
        });
        assertThat(state.current()).isNull();
        assertThat(state.pending()).hasSize(1);
    }

    @Test
    void shouldSpendTheSeqOfARefusedEventSoThatTheEventsAfterItStillFold() {
        Events events = new Events("uid-1");
        events.accepted();
        events.add(new StageStarted(Stage.InformationCollection));
        DiagnosisEvent garbage = events.processorFinished(Stage.InformationCollection, Events.POD_COLLECTOR, "[\"not an object\"]");
        events.stageFinished(Stage.InformationCollection, StageOutcome.Succeeded, null);
        List<DiagnosisEvent> run = events.all();
        FoldState state = FoldState.empty();
        state.offer(run.get(0), 10);
        state.offer(run.get(1), 10);
        // the one after the garbage arrives first and waits for it
        assertThat(state.offer(run.get(3), 10).outcome()).isEqualTo(FoldState.Outcome.BUFFERED);

        FoldState.Offer offer = state.offer(garbage, 10);

        assertThat(offer.outcome()).isEqualTo(FoldState.Outcome.REFUSED);
        assertThat(offer.givenUp()).extracting(FoldState.GivenUp::event).containsExactly(garbage);
        assertThat(state.lastSeq()).as("the refused seq is spent and its successor folded").isEqualTo(3);
        assertThat(state.current().getContext()).isEqualTo("{}");
        assertThat(state.current().getPhase()).isEqualTo(io.kdiag.schemas.avro.Phase.Diagnosing);
        assertThat(state.history()).extracting(EventSummary::seq).containsExactly(0L, 1L, 3L);
    }

    @Test
    void shouldGiveUpTheFarthestBufferedEventsBeyondTheByteBudget() {
        Events events = new Events("uid-1");
        events.accepted();
        String half = "{\"big\":\"" + "x".repeat(FoldState.MAX_PENDING_BYTES / 2) + "\"}";
        events.add(new StageStarted(Stage.InformationCollection));
        events.processorFinished(Stage.InformationCollection, Events.POD_COLLECTOR, half);
        events.processorFinished(Stage.InformationCollection, Events.POD_COLLECTOR, half);
        List<DiagnosisEvent> run = events.all();
        FoldState state = FoldState.empty();
        state.offer(run.get(0), 10);

        assertThat(state.offer(run.get(3), 10).outcome()).isEqualTo(FoldState.Outcome.BUFFERED);
        FoldState.Offer overflow = state.offer(run.get(2), 10);

        assertThat(overflow.outcome()).isEqualTo(FoldState.Outcome.OVERFLOW);
        assertThat(overflow.givenUp()).extracting(g -> g.event().getSeq()).containsExactly(3L);
        assertThat(state.pending()).extracting(DiagnosisEvent::getSeq).containsExactly(2L);
        assertThat(SERDE.serialize("store", state).length).isLessThan(io.kdiag.schemas.DeadLetters.DEFAULT_MAX_RECORD_BYTES);
    }

    @Test
    void shouldKeepTheHistoryWithinItsByteBudget() {
        Events events = new Events("uid-1");
        events.accepted();
        for (int i = 0; i < 400; i++) {
            events.abnormalFailed("Repeated", "m".repeat(5_000));
        }
        FoldState state = FoldState.empty();
        events.all().forEach(e -> state.offer(e, 10));

        int historyBytes = state.encodedHistory().stream().mapToInt(h -> h.length).sum();
        assertThat(historyBytes).isLessThanOrEqualTo(FoldState.MAX_HISTORY_BYTES);
        assertThat(state.history()).last().satisfies(h -> {
            assertThat(h.seq()).isEqualTo(400);
            assertThat(h.message()).hasSize(EventSummary.MAX_FIELD_CHARS + 1);
        });
        assertThat(state.history().size()).isLessThan(401);
    }

    @Test
    void shouldRoundTripThroughTheStoreFormat() {
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        FoldState state = FoldState.empty();
        state.offer(run.get(0), 10);
        state.offer(run.get(1), 10);
        state.offer(run.get(5), 10);
        state.offer(run.get(3), 10);

        FoldState copy = SERDE.deserialize("store", SERDE.serialize("store", state));

        assertThat(copy.current()).isEqualTo(state.current());
        assertThat(copy.pending()).containsExactlyElementsOf(state.pending());
        assertThat(copy.history()).containsExactlyElementsOf(state.history()).hasSize(2);
        assertThat(SERDE.deserialize("store", SERDE.serialize("store", FoldState.empty())).current()).isNull();
    }

    @Test
    void shouldReadAValueWrittenBeforeTheHistoryMovedIntoTheState() {
        FoldState state = FoldState.empty();
        state.offer(Events.seedRun("uid-1").get(0), 10);
        byte[] bytes = SERDE.serialize("store", state);
        // version 1 ended after the buffered events: drop the summaries' count and the one summary
        byte[] summary = state.history().iterator().next().encode();
        byte[] v1 = Arrays.copyOf(bytes, bytes.length - 4 - 4 - summary.length);
        v1[0] = 1;

        FoldState read = SERDE.deserialize("store", v1);

        assertThat(read.current()).isEqualTo(state.current());
        assertThat(read.history()).isEmpty();
    }

    @Test
    void shouldRejectATruncatedStoreValue() {
        FoldState state = FoldState.empty();
        state.offer(Events.seedRun("uid-1").get(0), 10);
        byte[] bytes = SERDE.serialize("store", state);

        assertThatThrownBy(() -> SERDE.deserialize("store", Arrays.copyOf(bytes, 7)))
                .isInstanceOf(SerializationException.class);
    }

    /** A valid run with random processors, context changes, commands, profilers and outcomes. */
    private static List<DiagnosisEvent> randomRun(Random random, String uid) {
        Events events = new Events(uid);
        events.accepted();
        for (StageDefinition definition : StageDefinition.values()) {
            Stage stage = definition.stage();
            events.add(new StageStarted(stage));
            for (int p = random.nextInt(3); p > 0; p--) {
                NamespacedName processor = new NamespacedName("kube-diagnoser", "p" + random.nextInt(5));
                events.add(new ProcessorStarted(stage, processor));
                String removed = random.nextBoolean() ? "k" + random.nextInt(4) : null;
                String updates = random.nextInt(4) == 0 ? null : "{\"k" + random.nextInt(4) + "\":" + random.nextInt(100) + "}";
                if (removed == null) {
                    events.processorFinished(stage, processor, updates);
                } else {
                    events.processorFinished(stage, processor, updates, removed);
                }
            }
            sideResults(random, events, stage);
            int roll = random.nextInt(10);
            StageOutcome outcome = roll < 2 ? StageOutcome.Failed : roll < 4 ? StageOutcome.Skipped : StageOutcome.Succeeded;
            events.stageFinished(stage, outcome, outcome == StageOutcome.Succeeded && stage != Stage.InformationCollection
                    ? new NamespacedName("kube-diagnoser", stage.name().toLowerCase()) : null);
            if (outcome == StageOutcome.Failed) {
                break;
            }
        }
        sideResults(random, events, Stage.Recovery);
        if (random.nextInt(5) == 0) {
            events.abnormalFailed("Late", "after the end");
        }
        return events.all();
    }

    private static void sideResults(Random random, Events events, Stage stage) {
        for (int c = random.nextInt(3); c > 0; c--) {
            events.command(stage, "cmd" + random.nextInt(10));
        }
        if (random.nextBoolean()) {
            String name = "prof" + random.nextInt(3);
            events.profiler(name, "10.0.0.1:" + (30000 + random.nextInt(1000)));
            if (random.nextBoolean()) {
                events.profilerExpired(name);
            }
        }
    }

    private static List<Long> seqs(List<DiagnosisEvent> events) {
        return events.stream().map(DiagnosisEvent::getSeq).toList();
    }
}
