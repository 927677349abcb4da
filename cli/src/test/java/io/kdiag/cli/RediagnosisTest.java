package io.kdiag.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;

import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.stageworkers.FileArtifactStore;
import io.kdiag.stageworkers.WorkerRunner;
import io.kdiag.stageworkers.builtin.ProcessMatchDiagnoser;
import io.kdiag.stageworkers.builtin.SignalRecoverer;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.PodSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RediagnosisTest {
    private static final String PROCESSES = "[{\"pid\":4242,\"command\":[\"java\",\"-jar\",\"shop.jar\"]},"
            + "{\"pid\":4343,\"command\":[\"nginx\",\"-g\",\"daemon off;\"]}]";
    private static final String SPEC = "{\"nodeName\":\"node-1\",\"context\":{\"processMatch\":{\"commandPattern\":\"^java \"}}}";
    private static final String IDENTIFIED = "{\"processMatchDiagnosis\":[],\"signalRecovery\":[]}";

    @TempDir
    Path dir;
    WorkerRunner runner;
    NodeServices node;

    @BeforeEach
    void setUp() throws Exception {
        runner = new WorkerRunner(1 << 20);
        node = new NodeServices(HostPaths.of(dir), 1L << 40, PodSource.NONE, new FileArtifactStore(dir.resolve("a"), Clock.systemUTC()));
    }

    @AfterEach
    void tearDown() {
        runner.close();
    }

    private Rediagnosis rediagnosis(Map<String, Object> overrides) {
        return new Rediagnosis(new ProcessMatchDiagnoser(), runner, node, overrides);
    }

    private static EventLog log(List<List<DiagnosisEvent>> abnormals) {
        EventLog log = new EventLog();
        abnormals.forEach(events -> events.forEach(log::add));
        return log;
    }

    @Test
    void shouldListNothingWhenTheDiagnoserConcludesAsRecorded() throws Exception {
        List<DiagnosisEvent> identified = new Events("u1").accepted("shop", SPEC).collected(1_000, PROCESSES)
                .diagnosed(2_000, "process-match-diagnoser", true, IDENTIFIED, null).list();

        Rediagnosis.Outcome outcome = rediagnosis(Map.of()).run(log(List.of(identified)), Events.T0);

        assertThat(outcome.considered()).isEqualTo(1);
        assertThat(outcome.rediagnosed()).isEqualTo(1);
        assertThat(outcome.differing()).isEmpty();
    }

    @Test
    void shouldListOnlyTheAbnormalsWhoseVerdictChanges() throws Exception {
        List<DiagnosisEvent> identified = new Events("u1").accepted("shop", SPEC).collected(1_000, PROCESSES)
                .diagnosed(2_000, "process-match-diagnoser", true, IDENTIFIED, null).list();
        List<DiagnosisEvent> unidentified = new Events("u2").accepted("nothing", SPEC).collected(1_000, "[]")
                .diagnosed(2_000, "process-match-diagnoser", false, null, "NoMatchingProcess").list();
        List<DiagnosisEvent> notRun = new Events("u3").accepted("collect-only", SPEC).collected(1_000, PROCESSES).list();

        Rediagnosis.Outcome outcome = rediagnosis(Map.of("processMatch", Map.of("commandPattern", "^nginx")))
                .run(log(List.of(identified, unidentified, notRun)), Events.T0);

        // u1 still identifies (nginx matches now, same keys); u2 still finds nothing; u3 never ran the diagnoser
        assertThat(outcome.differing()).singleElement().satisfies(f -> {
            assertThat(f.status().getName()).isEqualTo("collect-only");
            assertThat(f.recorded().describe()).isEqualTo("not run");
            assertThat(f.rediagnosed().describe()).isEqualTo("identified: processMatchDiagnosis, signalRecovery");
        });

        Rediagnosis.Outcome changed = rediagnosis(Map.of("processMatch", Map.of("commandPattern", "^nothing-like-this")))
                .run(log(List.of(identified, unidentified)), Events.T0);

        assertThat(changed.differing()).singleElement().satisfies(f -> {
            assertThat(f.status().getName()).isEqualTo("shop");
            assertThat(f.rediagnosed().describe()).isEqualTo("not identified (NoMatchingProcess)");
        });
    }

    @Test
    void shouldRunOnTheContextAsItStoodAfterCollection() throws Exception {
        // the recorded diagnoser removed processInformation; rediagnosis must still see it
        List<DiagnosisEvent> events = new Events("u1").accepted("shop", SPEC).collected(1_000, PROCESSES)
                .diagnosed(2_000, "process-match-diagnoser", true, IDENTIFIED, null).list();

        assertThat(rediagnosis(Map.of()).rediagnose(events)).hasValueSatisfying(f ->
                assertThat(f.rediagnosed().identified()).isTrue());
    }

    @Test
    void shouldSkipAbnormalsWithoutASuccessfulCollectionOrOlderThanSince() throws Exception {
        List<DiagnosisEvent> noCollection = new Events("u1").accepted("early-failure", SPEC).list();
        List<DiagnosisEvent> old = new Events("u2").accepted("old", SPEC).collected(1_000, PROCESSES).list();

        Rediagnosis.Outcome outcome = rediagnosis(Map.of()).run(log(List.of(noCollection)), Events.T0);
        Rediagnosis.Outcome later = rediagnosis(Map.of()).run(log(List.of(old)), Events.T0.plusSeconds(1));

        assertThat(outcome.considered()).isEqualTo(1);
        assertThat(outcome.rediagnosed()).isZero();
        assertThat(later.considered()).isZero();
    }

    @Test
    void shouldNeverRunARecoverer() {
        assertThatThrownBy(() -> new Rediagnosis(new SignalRecoverer(), runner, node, Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("signal-recoverer is not a diagnoser");
    }

    @Test
    void shouldReadTheRecordedVerdictOfThatDiagnoserOnly() {
        List<DiagnosisEvent> events = new Events("u1").accepted("x", SPEC).collected(1_000, PROCESSES)
                .diagnosed(2_000, "other-diagnoser", true, "{\"k\":1}", null).list();

        assertThat(Rediagnosis.recorded(events, "process-match-diagnoser")).isEqualTo(Rediagnosis.Verdict.NOT_RUN);
        assertThat(Rediagnosis.recorded(events, "other-diagnoser").describe()).isEqualTo("identified: k");
    }
}
