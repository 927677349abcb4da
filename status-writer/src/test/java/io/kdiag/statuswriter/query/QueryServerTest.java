package io.kdiag.statuswriter.query;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

import io.kdiag.api.ApiSerialization;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.health.Health;
import io.kdiag.model.FoldState;
import io.kdiag.model.StatusFold;
import io.kdiag.model.StatusProjection;
import io.kdiag.schemas.Evidence;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.statuswriter.StatusWriterConfig;
import io.kdiag.statuswriter.fold.StatusFoldTopology;
import io.kdiag.statuswriter.fold.WriterDeadLetters;
import io.kdiag.testkit.Events;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QueryServerTest {
    private static final Topics TOPICS = new Topics("test.");
    private static final String ONE = "/api/v1/namespaces/default/abnormals/pod-disk-usage-diagnosis";

    @TempDir
    Path stateDir;

    private TopologyTestDriver driver;
    private TestInputTopic<String, DiagnosisEvent> events;
    private final AtomicReference<KafkaStreams.State> state = new AtomicReference<>(KafkaStreams.State.RUNNING);
    private final AtomicReference<Boolean> queryable = new AtomicReference<>(true);
    private QueryServer server;
    /** The evidence topic as the query server reads it: what is there, by reference. */
    private final Map<Evidence.Reference, byte[]> evidence = new ConcurrentHashMap<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeEach
    void start() throws IOException {
        StatusWriterConfig config = StatusWriterConfig.from(ConfigSource.of(Map.of("kdiag.state-dir", stateDir.toString(),
                "kdiag.topic-prefix", TOPICS.prefix()), Map.of()));
        Properties props = StatusWriter.streamsProperties(config, Map.of(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092"));
        driver = new TopologyTestDriver(StatusFoldTopology.build(TOPICS, config.statusFlushInterval(), snapshot -> {
        }, WriterDeadLetters.from(props)), props);
        events = driver.createInputTopic(TOPICS.diagnosisEvents().name(), new StringSerializer(),
                TOPICS.diagnosisEvents().valueSerde().serializer());
        StatusQueries queries = new StatusQueries(() -> this.<String, FoldState>store(StatusFoldTopology.STORE_NAME));
        Health health = new Health(List.of(), List.of(() -> state.get() == KafkaStreams.State.RUNNING ? Optional.empty()
                : Optional.of("Kafka Streams is " + state.get())));
        server = QueryServer.start("127.0.0.1", 0, queries, health, "kdiag.evidence", (reference, sink) -> {
            byte[] value = evidence.get(reference);
            if (value == null) {
                throw new IOException("evidence " + reference.sha256() + " is gone: past the retention of kdiag.evidence");
            }
            sink.accept(value);
        });
    }

    @AfterEach
    void stop() {
        server.close();
        driver.close();
    }

    @Test
    void shouldListAbnormalsWithTheirStatusAndFilterByNamespace() throws Exception {
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        run.forEach(this::send);

        HttpResponse<String> all = get("/api/v1/abnormals");
        HttpResponse<String> otherNamespace = get("/api/v1/abnormals?namespace=kube-system");

        assertThat(all.statusCode()).isEqualTo(200);
        assertThat(all.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(json(all.body())).isEqualTo(Map.of("items",
                List.of(json(ApiSerialization.json(StatusProjection.abnormal(StatusFold.fold(run)))))));
        assertThat(json(get("/api/v1/abnormals?namespace=default").body()).get("items")).asList().hasSize(1);
        assertThat(json(otherNamespace.body())).isEqualTo(Map.of("items", List.of()));
    }

    @Test
    void shouldReturnTheNewestRunOfAName() throws Exception {
        Events.seedRun("uid-old").forEach(this::send);
        List<DiagnosisEvent> later = Events.seedRun("uid-new").stream()
                .map(e -> DiagnosisEvent.newBuilder(e).setTime(e.getTime().plus(Duration.ofHours(1))).build())
                .toList();
        later.subList(0, 4).forEach(this::send);

        HttpResponse<String> one = get(ONE);

        assertThat(one.statusCode()).isEqualTo(200);
        Map<String, Object> abnormal = json(one.body());
        assertThat(abnormal).containsEntry("apiVersion", "diagnosis.netease.com/v1").containsEntry("kind", "Abnormal");
        assertThat(abnormal.get("metadata")).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP)
                .containsEntry("uid", "uid-new").containsEntry("namespace", "default");
        assertThat(abnormal).isEqualTo(json(ApiSerialization.json(StatusProjection.abnormal(StatusFold.fold(later.subList(0, 4))))));
        assertThat(json(get("/api/v1/abnormals").body()).get("items")).asList().hasSize(2);
    }

    @Test
    void shouldReturnTheHistoryOfTheNewestRunInSeqOrder() throws Exception {
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        List.of(0, 2, 1, 3, 4, 5, 6, 7, 8, 9, 10, 4).forEach(i -> send(run.get(i)));

        Map<String, Object> history = json(get(ONE + "/history").body());

        assertThat(history).containsEntry("uid", "uid-1");
        List<Map<String, Object>> summaries = summaries(history);
        assertThat(summaries).extracting(s -> ((Number) s.get("seq")).longValue()).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
        assertThat(summaries).extracting(s -> s.get("type")).containsExactly("Accepted", "StageStarted", "ProcessorStarted",
                "ProcessorFinished", "CommandFinished", "StageFinished", "StageStarted", "ProcessorStarted", "ProcessorFinished",
                "StageFinished", "StageFinished");
        assertThat(summaries.get(3)).isEqualTo(Map.of("seq", 3, "time", "2020-08-13T07:44:45.000Z", "type", "ProcessorFinished",
                "stage", "InformationCollection", "processor", "kube-diagnoser/pod-collector", "outcome", "Succeeded",
                "durationMillis", 10));
        assertThat(summaries.get(9)).containsEntry("processor", "kube-diagnoser/pod-disk-usage-diagnoser")
                .containsEntry("outcome", "Succeeded").containsEntry("stage", "Diagnosis");
        assertThat(summaries.get(10)).containsEntry("outcome", "Skipped").containsEntry("stage", "Recovery");
    }

    @Test
    void shouldServeEvidenceFromTheReferenceInTheStatus() throws Exception {
        String sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        byte[] value = "{\"processes\":[1,2,3]}".getBytes(StandardCharsets.UTF_8);
        evidence.put(new Evidence.Reference("kdiag.evidence", 2, List.of(41L), sha256, value.length, "application/json"), value);

        HttpResponse<String> found = get("/api/v1/evidence/" + sha256 + "?partition=2&offsets=41&bytes=" + value.length);
        HttpResponse<String> gone = get("/api/v1/evidence/" + sha256 + "?partition=2&offsets=40&bytes=" + value.length);
        HttpResponse<String> malformed = get("/api/v1/evidence/" + sha256 + "?partition=2&offsets=41,42&bytes=" + value.length);

        assertThat(found.statusCode()).isEqualTo(200);
        assertThat(found.body()).isEqualTo("{\"processes\":[1,2,3]}");
        assertThat(found.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(found.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        assertThat(gone.statusCode()).isEqualTo(404);
        assertThat(json(gone.body())).containsEntry("reason", "NotFound").extractingByKey("message").asString().contains("is gone");
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(json(malformed.body())).extractingByKey("message").asString().contains("has 1 chunk(s), not 2");
    }

    @Test
    void shouldServeAPageKeptAsEvidenceWithItsTypeInAnOriginOfItsOwn() throws Exception {
        String sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        byte[] page = "<html><a href=\"raw\">profile.pb.gz</a></html>".getBytes(StandardCharsets.UTF_8);
        Evidence.Reference reference = new Evidence.Reference("kdiag.evidence", 0, List.of(3L), sha256, page.length, "text/html; charset=utf-8");
        evidence.put(reference, page);

        HttpResponse<String> served = get(Evidence.SERVED_AT + reference.path());

        assertThat(served.statusCode()).isEqualTo(200);
        assertThat(served.body()).isEqualTo(new String(page, StandardCharsets.UTF_8));
        assertThat(served.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(served.headers().firstValue("Content-Security-Policy")).hasValue(QueryServer.PAGE_POLICY);
        assertThat(QueryServer.PAGE_POLICY).startsWith("sandbox allow-scripts allow-downloads;").contains("default-src 'none'");
    }

    @Test
    void shouldAnswerNotFoundWithAReason() throws Exception {
        Events.seedRun("uid-1").forEach(this::send);

        HttpResponse<String> missing = get("/api/v1/namespaces/default/abnormals/nothing-here");
        HttpResponse<String> missingHistory = get("/api/v1/namespaces/default/abnormals/nothing-here/history");
        HttpResponse<String> noEndpoint = get("/api/v1/namespaces/default/pods/x");

        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(json(missing.body())).containsEntry("reason", "NotFound")
                .containsEntry("message", "abnormal default/nothing-here not found");
        assertThat(missingHistory.statusCode()).isEqualTo(404);
        assertThat(noEndpoint.statusCode()).isEqualTo(404);
        assertThat(json(noEndpoint.body())).containsEntry("reason", "NotFound");
    }

    @Test
    void shouldRejectWritesAsMethodNotAllowed() throws Exception {
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(uri("/api/v1/abnormals"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("Allow")).hasValue("GET");
        assertThat(json(post.body())).containsEntry("reason", "MethodNotAllowed");
    }

    @Test
    void shouldBeReadyOnlyWhileStreamsRuns() throws Exception {
        assertThat(get("/healthz").statusCode()).isEqualTo(200);
        assertThat(get("/readyz").statusCode()).isEqualTo(200);

        state.set(KafkaStreams.State.REBALANCING);

        assertThat(get("/healthz").statusCode()).isEqualTo(200);
        HttpResponse<String> notReady = get("/readyz");
        assertThat(notReady.statusCode()).isEqualTo(503);
        assertThat(json(notReady.body())).containsEntry("reason", "NotReady");
    }

    @Test
    void shouldAnswerUnavailableWhileTheStoresCannotBeQueried() throws Exception {
        queryable.set(false);

        HttpResponse<String> response = get("/api/v1/abnormals");

        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(json(response.body())).containsEntry("reason", "Unavailable");
    }

    private <K, V> ReadOnlyKeyValueStore<K, V> store(String name) {
        if (!queryable.get()) {
            throw new InvalidStateStoreException("rebalancing");
        }
        KeyValueStore<K, V> store = driver.getKeyValueStore(name);
        return store;
    }

    private void send(DiagnosisEvent event) {
        events.pipeInput(event.getNodeName(), event);
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> summaries(Map<String, Object> history) {
        return (List<Map<String, Object>>) history.get("events");
    }

    private static Map<String, Object> json(String body) {
        return ApiSerialization.jsonObject(body);
    }
}
