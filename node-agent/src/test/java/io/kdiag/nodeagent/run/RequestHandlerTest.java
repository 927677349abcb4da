package io.kdiag.nodeagent.run;

import static io.kdiag.nodeagent.Fixtures.request;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.NamespacedName;
import io.kdiag.nodeagent.policy.Policy;
import io.kdiag.nodeagent.processors.Registrations;
import io.kdiag.schemas.avro.AbnormalFailed;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Accepted;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.ProcessorStarted;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.WorkerRunner;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.NodeServices;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What no request can do to the agent's loop: a defect while running it, a request too large for its events, an event
 * Kafka refuses for its size, a request no event can stand for. Each ends (or is refused) with a reason, and the agent
 * takes the next record.
 */
class RequestHandlerTest {
    @TempDir
    Path stateDir;
    private final RunFixtures.ListSink sink = new RunFixtures.ListSink();
    private final WorkerRunner workers = new WorkerRunner(64 * 1024 * 1024);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private Journal journal;
    private NodeServices node;

    @BeforeEach
    void open() throws Exception {
        journal = Journal.open(stateDir);
        node = RunFixtures.node(HostPaths.of(stateDir), 4242);
    }

    @AfterEach
    void close() throws Exception {
        workers.close();
        journal.close();
    }

    private RequestHandler handler(Registrations registrations) {
        StageRunner stages = RunFixtures.stageRunner(node, List.of(), workers, () -> Policy.defaults(List.of()), registrations,
                URI.create("http://127.0.0.1:1/"), new OutputLimits(1024, 100_000), new RunFixtures.MemoryEvidence(),
                RunFixtures.budget(RunFixtures.LIMITS), registry, RunFixtures.running());
        return new RequestHandler(stages, new EventLog("node-a", sink, journal, Clock.systemUTC()), new AgentMetrics(registry),
                RunFixtures.parking(), List.of());
    }

    private static AbnormalSpec collecting(String processor) {
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = "node-a";
        spec.assignedInformationCollectors = List.of(new NamespacedName("team", processor));
        return spec;
    }

    @Test
    void shouldEndAnAbnormalThatHitsAnAgentDefectAndTakeTheNextRequest() throws Exception {
        // a registry lookup that throws stands for any defect of the agent while it runs an abnormal
        Registrations broken = new Registrations() {
            @Override
            public Optional<Registered> find(Stage stage, String namespace, String name) {
                throw new IllegalStateException("informer cache corrupted");
            }

            @Override
            public List<HasMetadata> list(Stage stage) {
                return List.of();
            }
        };
        RequestHandler handler = handler(broken);

        assertThat(handler.handle(request("uid-1", "node-a", collecting("remote")))).isTrue();

        assertThat(sink.events).last().satisfies(e -> {
            assertThat(e.getPayload()).isInstanceOf(AbnormalFailed.class);
            assertThat(((AbnormalFailed) e.getPayload()).getReason()).isEqualTo("AgentError");
            assertThat(((AbnormalFailed) e.getPayload()).getMessage()).contains("informer cache corrupted");
        });
        assertThat(journal.entry("uid-1")).hasValueSatisfying(entry -> assertThat(entry.finished()).isTrue());
        int events = sink.events.size();
        assertThat(handler.handle(request("uid-1", "node-a", collecting("remote")))).as("read again: a duplicate").isTrue();
        assertThat(sink.events).hasSize(events);
    }

    @Test
    void shouldFailARequestTooLargeForItsEventsWithAReason() throws Exception {
        AbnormalSpec spec = collecting("remote");
        spec.context = Map.of("padding", "p".repeat(150_000));
        AbnormalRequest huge = request("uid-huge", "node-a", spec);

        assertThat(handler(Registrations.NONE).handle(huge)).isTrue();

        assertThat(sink.described()).containsExactly("Accepted", "AbnormalFailed RequestTooLarge");
        Accepted accepted = (Accepted) sink.events.get(0).getPayload();
        assertThat(accepted.getSpec()).isEqualTo("{}");
        assertThat(accepted.getName()).isEqualTo("abnormal-uid-huge");
        assertThat(((AbnormalFailed) sink.events.get(1).getPayload()).getMessage()).contains("more than the 100000 an event holds");
    }

    @Test
    void shouldEndAnAbnormalWhoseEventKafkaRefusesForItsSizeInsteadOfReadingItAgain() throws Exception {
        sink.failure = e -> e.getPayload() instanceof ProcessorStarted ? new RecordTooLargeException("the record is too large") : null;

        assertThat(handler(Registrations.NONE).handle(request("uid-1", "node-a", collecting("remote")))).isTrue();

        List<DiagnosisEvent> failed = sink.events.stream().filter(e -> e.getPayload() instanceof AbnormalFailed).toList();
        assertThat(failed).isNotEmpty().allSatisfy(e -> assertThat(((AbnormalFailed) e.getPayload()).getReason()).isEqualTo("EventTooLarge"));
        assertThat(journal.entry("uid-1")).hasValueSatisfying(entry -> assertThat(entry.finished()).isTrue());
    }

    @Test
    void shouldNameWhyNoEventCanStandForAForgedRequest() {
        AbnormalRequest valid = request("uid-1", "node-a", "{}");

        assertThat(RequestHandler.unrunnable(valid)).isNull();
        assertThat(RequestHandler.unrunnable(AbnormalRequest.newBuilder(valid).setUid(" ").build())).contains("no uid");
        assertThat(RequestHandler.unrunnable(AbnormalRequest.newBuilder(valid).setName("n".repeat(254)).build()))
                .contains("name has 254 characters");
        assertThat(RequestHandler.unrunnable(AbnormalRequest.newBuilder(valid).setUid("u".repeat(10_000)).build())).contains("uid");
    }
}
