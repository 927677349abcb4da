package io.kdiag.nodeagent.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.List;

import io.kdiag.schemas.avro.AbnormalFailed;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.ProcessorStarted;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageStarted;
import io.kdiag.stageworkers.WorkerRunner;
import io.kdiag.stageworkers.spi.HostPaths;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalTest {
    private static final NamespacedName RECOVERER = new NamespacedName("kube-diagnoser", "signal-recoverer");

    @TempDir
    Path dir;

    private static ProcessorStarted started(Stage stage) {
        return new ProcessorStarted(stage, RECOVERER);
    }

    private static ProcessorFinished finished() {
        return ProcessorFinished.newBuilder().setStage(Stage.Recovery).setProcessor(RECOVERER).setSucceeded(true)
                .setDurationMillis(1).build();
    }

    private static AbnormalFailed endInterrupted(Journal journal, String uid, RunFixtures.ListSink sink) throws Exception {
        Journal.Entry entry = journal.entry(uid).orElseThrow();
        try (WorkerRunner workers = new WorkerRunner(1000)) {
            RunFixtures.stageRunner(RunFixtures.node(HostPaths.of(Path.of("/")), 1), List.of(), workers, new SimpleMeterRegistry())
                    .endInterrupted(entry, new AbnormalEvents(uid, "node-a", entry.lastSeq(), sink, journal, Clock.systemUTC()),
                            "the agent restarted");
        }
        // the reserved seq may never have reached Kafka: the failure fills it and the next one, so no gap is left
        assertThat(sink.events).extracting(DiagnosisEvent::getSeq).containsExactly(entry.lastSeq(), entry.lastSeq() + 1);
        assertThat(sink.events.get(1).getPayload()).isEqualTo(sink.events.get(0).getPayload());
        return (AbnormalFailed) sink.events.get(0).getPayload();
    }

    @Test
    void shouldNeverRunAFinishedAbnormalAgain() throws Exception {
        try (Journal journal = Journal.open(dir)) {
            journal.reserve("done", 0, new StageStarted(Stage.Diagnosis));
            journal.finish("done");
        }

        try (Journal journal = Journal.open(dir)) {
            assertThat(journal.entry("done")).hasValueSatisfying(e -> assertThat(e.finished()).isTrue());
            assertThat(journal.unfinished()).isEmpty();
        }
    }

    @Test
    void shouldContinueAFinishedAbnormalsSeqAfterItsEndAndAcrossCompaction() throws Exception {
        try (Journal journal = Journal.open(dir)) {
            journal.reserve("done", 0, new StageStarted(Stage.Diagnosis));
            journal.reserve("done", 1, new StageStarted(Stage.Recovery));
            journal.finish("done");
        }
        try (Journal journal = Journal.open(dir)) {
            assertThat(journal.entry("done")).hasValue(new Journal.Entry(1, true, null));
            // a ProfilerExpired after the end reserves the next seq and leaves the abnormal finished, even before its D line
            journal.reserve("done", 2, new io.kdiag.schemas.avro.ProfilerExpired("cpu"));
            assertThat(journal.entry("done")).hasValue(new Journal.Entry(2, true, null));
            assertThat(journal.unfinished()).isEmpty();
        }
        try (Journal journal = Journal.open(dir)) {
            assertThat(journal.entry("done")).hasValue(new Journal.Entry(2, true, null));
        }
    }

    @Test
    void shouldEndAnUnfinishedAbnormalAtItsLastReservedSeq() throws Exception {
        try (Journal journal = Journal.open(dir)) {
            for (int seq = 0; seq < 4; seq++) {
                journal.reserve("cut", seq, new StageStarted(Stage.InformationCollection));
            }
        }

        RunFixtures.ListSink sink = new RunFixtures.ListSink();
        try (Journal journal = Journal.open(dir)) {
            assertThat(journal.unfinished()).containsOnlyKeys("cut");
            AbnormalFailed failed = endInterrupted(journal, "cut", sink);
            assertThat(failed.getReason()).isEqualTo("AgentRestarted");
            assertThat(failed.getMessage()).isEqualTo("the agent restarted while the abnormal was running; it is not run again");
        }
        assertThat(sink.events.get(0).getSeq()).isEqualTo(3);

        try (Journal journal = Journal.open(dir)) {
            assertThat(journal.unfinished()).isEmpty();
            assertThat(journal.entry("cut")).hasValueSatisfying(e -> assertThat(e.lastSeq()).isEqualTo(4));
        }
    }

    @Test
    void shouldSayWhichRecovererWasInterrupted() throws Exception {
        try (Journal journal = Journal.open(dir)) {
            journal.reserve("rec", 0, new StageStarted(Stage.Recovery));
            journal.reserve("rec", 1, started(Stage.Recovery));
            journal.reserve("after", 0, started(Stage.Recovery));
            journal.reserve("after", 1, finished());
        }

        try (Journal journal = Journal.open(dir)) {
            AbnormalFailed failed = endInterrupted(journal, "rec", new RunFixtures.ListSink());
            assertThat(failed.getReason()).isEqualTo("RecoveryInterrupted");
            assertThat(failed.getMessage()).isEqualTo(
                    "the agent restarted while recoverer kube-diagnoser/signal-recoverer was running; it is not run again");
            assertThat(journal.entry("after")).hasValueSatisfying(e -> assertThat(e.runningRecoverer()).isNull());
        }
    }

    @Test
    void shouldCompactToOneLinePerAbnormalAndKeepTheRunningRecoverer() throws Exception {
        try (Journal journal = Journal.open(dir)) {
            journal.reserve("a b", 0, new StageStarted(Stage.Recovery));
            journal.reserve("a b", 1, started(Stage.Recovery));
            journal.reserve("c", 0, new StageStarted(Stage.Recovery));
            journal.finish("c");
        }
        Journal.open(dir).close();

        try (Journal journal = Journal.open(dir)) {
            assertThat(Files.readAllLines(dir.resolve("journal"))).hasSize(2);
            assertThat(journal.entry("a b")).contains(new Journal.Entry(1, false, "kube-diagnoser/signal-recoverer"));
            assertThat(journal.entry("c")).hasValueSatisfying(e -> assertThat(e.finished()).isTrue());
        }
    }

    @Test
    void shouldIgnoreALineTornByACrash() throws Exception {
        try (Journal journal = Journal.open(dir)) {
            journal.reserve("x", 0, new StageStarted(Stage.Recovery));
        }
        Files.writeString(dir.resolve("journal"), "S x 1", StandardOpenOption.APPEND);
        Files.writeString(dir.resolve("journal"), "\nS y notanumber Stage", StandardOpenOption.APPEND);

        try (Journal journal = Journal.open(dir)) {
            assertThat(journal.unfinished()).containsOnlyKeys("x");
        }
    }

    @Test
    void shouldTreatAnAbnormalStoppedRightAfterAcceptedAsNotStarted() throws Exception {
        try (Journal journal = Journal.open(dir)) {
            journal.reserve("fresh", 0, new StageStarted(Stage.InformationCollection));
            journal.reserve("busy", 0, new StageStarted(Stage.InformationCollection));
            journal.reserve("busy", 1, new StageStarted(Stage.InformationCollection));
        }

        try (Journal journal = Journal.open(dir)) {
            assertThat(journal.entry("fresh")).hasValueSatisfying(e -> assertThat(e.onlyAccepted()).isTrue());
            assertThat(journal.entry("busy")).hasValueSatisfying(e -> assertThat(e.onlyAccepted()).isFalse());
        }
    }
}
