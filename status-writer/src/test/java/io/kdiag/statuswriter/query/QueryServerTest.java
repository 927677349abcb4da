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

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.CopyOnWriteArrayList;

import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.api.model.authentication.UserInfoBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceAttributes;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewSpec;
import io.kdiag.api.ApiSerialization;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.health.Health;
import io.kdiag.model.ApprovalDecisions;
import io.kdiag.model.FoldState;
import io.kdiag.model.StatusFold;
import io.kdiag.model.StatusProjection;
import io.kdiag.schemas.Evidence;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.ApprovalDecision;
import io.kdiag.schemas.avro.ApprovalRequested;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageOutcome;
import io.kdiag.schemas.avro.StageStarted;
import io.kdiag.schemas.signing.SignatureDomain;
import io.kdiag.schemas.signing.SigningKey;
import io.kdiag.schemas.signing.VerificationKeys;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.statuswriter.StatusWriterConfig;
import io.kdiag.statuswriter.fold.StatusFoldTopology;
import io.kdiag.statuswriter.fold.WriterDeadLetters;
import io.kdiag.testkit.Events;
import io.kdiag.testkit.MockCluster;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
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
    private static final Instant NOW = Instant.parse("2026-12-03T10:00:00Z");
    private static final String ALICE_TOKEN = "eyJhbGciOiJSUzI1NiJ9.alice-secret-token";
    private static final String BOB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.bob-secret-token";
    private final MockCluster cluster = cluster();
    private final SigningKey relayKey = SigningKey.generate();
    private final MockProducer<byte[], byte[]> decisions = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    private final List<String> logged = new CopyOnWriteArrayList<>();
    private AbstractAppender relayLog;

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
        }, ApprovalRelay.on(cluster.client(), relayKey, TOPICS.approvals(), decisions, Clock.fixed(NOW, ZoneOffset.UTC)));
        relayLog = new AbstractAppender("approval-relay-log", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                logged.add(event.getMessage().getFormattedMessage());
            }
        };
        relayLog.start();
        for (Class<?> logging : List.of(ApprovalRelay.class, QueryServer.class)) {
            ((Logger) LogManager.getLogger(logging)).addAppender(relayLog);
        }
    }

    /**
     * The API server's reviews, as a cluster would answer them: two tokens are known, and only {@code alice} may
     * approve, in namespace {@code default}.
     */
    private static MockCluster cluster() {
        MockCluster cluster = new MockCluster();
        cluster.answerReviews(Map.of(ALICE_TOKEN, user("alice"), BOB_TOKEN, user("bob")), review -> {
            ResourceAttributes asked = review.getResourceAttributes();
            return review.getUser().equals("alice") && asked.getGroup().equals("diagnosis.netease.com")
                    && asked.getResource().equals("abnormals") && asked.getVerb().equals("approve") && asked.getNamespace().equals("default");
        });
        return cluster;
    }

    private static UserInfo user(String name) {
        return new UserInfoBuilder().withUsername(name).withUid("uid-" + name).withGroups("system:authenticated", "ops")
                .withExtra(Map.of("scopes", List.of("approve"))).build();
    }

    @AfterEach
    void stop() {
        for (Class<?> logging : List.of(ApprovalRelay.class, QueryServer.class)) {
            ((Logger) LogManager.getLogger(logging)).removeAppender(relayLog);
        }
        server.close();
        driver.close();
        cluster.close();
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

    @Test
    void shouldRelayAnApprovalOnBehalfOfTheAuthenticatedAndAuthorizedUser() throws Exception {
        List<DiagnosisEvent> run = waitingRun("uid-wait");
        run.forEach(this::send);

        HttpResponse<String> approved = decide("approve", ALICE_TOKEN, "{\"reason\": \"known issue\"}");

        assertThat(approved.statusCode()).isEqualTo(202);
        long requestSeq = run.get(run.size() - 1).getSeq();
        assertThat(json(approved.body())).containsEntry("uid", "uid-wait").containsEntry("onBehalfOf", "alice")
                .containsEntry("approved", true).containsEntry("reason", "known issue").containsEntry("topic", TOPICS.approvals().name())
                .containsEntry("nodeName", Events.NODE).containsEntry("requestSeq", (int) requestSeq);
        assertThat(decisions.history()).hasSize(1);
        ProducerRecord<byte[], byte[]> written = decisions.history().get(0);
        assertThat(written.topic()).isEqualTo(TOPICS.approvals().name());
        assertThat(TOPICS.approvals().keySerde().deserializer().deserialize(written.topic(), written.key())).isEqualTo(Events.NODE);
        assertThat(TOPICS.approvals().valueSerde().deserializer().deserialize(written.topic(), written.value()))
                .isEqualTo(new ApprovalDecision("uid-wait", requestSeq, true, NOW, "known issue", "alice"));
        // signed by the relay key over the node and the decision, in the approvals' domain: what the agents verify
        assertThat(VerificationKeys.of(List.of(relayKey.publicKey())).check(SignatureDomain.APPROVALS, written.key(), written.value(),
                written.headers())).isEqualTo(VerificationKeys.Check.VERIFIED);
        // authorized as the API server authenticated the caller, for this abnormal and the verb approve
        SubjectAccessReviewSpec asked = cluster.accessReviews().get(0).getSpec();
        assertThat(asked.getUser()).isEqualTo("alice");
        assertThat(asked.getUid()).isEqualTo("uid-alice");
        assertThat(asked.getGroups()).containsExactly("system:authenticated", "ops");
        assertThat(asked.getExtra()).isEqualTo(Map.of("scopes", List.of("approve")));
        assertThat(asked.getResourceAttributes()).extracting(ResourceAttributes::getGroup, ResourceAttributes::getResource,
                ResourceAttributes::getVerb, ResourceAttributes::getNamespace, ResourceAttributes::getName)
                .containsExactly("diagnosis.netease.com", "abnormals", "approve", "default", "pod-disk-usage-diagnosis");

        HttpResponse<String> denied = decide("deny", ALICE_TOKEN, "");
        assertThat(denied.statusCode()).isEqualTo(202);
        assertThat(TOPICS.approvals().valueSerde().deserializer().deserialize(written.topic(), decisions.history().get(1).value()))
                .isEqualTo(new ApprovalDecision("uid-wait", requestSeq, false, NOW, null, "alice"));
        assertThat(logged).anyMatch(line -> line.contains("approval relayed uid=uid-wait") && line.contains("user=alice"));
    }

    @Test
    void shouldRefuseACallerWithoutAValidTokenOrTheVerbApproveAndNeverLogTheToken() throws Exception {
        waitingRun("uid-wait").forEach(this::send);

        HttpResponse<String> noToken = decide("approve", null, "");
        HttpResponse<String> badToken = decide("approve", "eyJhbGciOiJSUzI1NiJ9.stolen-or-expired", "");
        HttpResponse<String> notAllowed = decide("approve", BOB_TOKEN, "");
        HttpResponse<String> notAllowedToDeny = decide("deny", BOB_TOKEN, "");

        assertThat(noToken.statusCode()).isEqualTo(401);
        assertThat(noToken.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        assertThat(json(noToken.body())).containsEntry("reason", "Unauthorized");
        assertThat(badToken.statusCode()).isEqualTo(401);
        assertThat(json(badToken.body()).get("message")).asString().contains("did not authenticate the token", "invalid bearer token");
        assertThat(notAllowed.statusCode()).isEqualTo(403);
        assertThat(json(notAllowed.body()).get("message")).asString()
                .contains("user bob may not approve abnormal default/pod-disk-usage-diagnosis", "verb approve on abnormals.diagnosis.netease.com");
        assertThat(notAllowedToDeny.statusCode()).isEqualTo(403);
        assertThat(json(notAllowedToDeny.body()).get("message")).asString().contains("user bob may not deny", "verb approve");
        assertThat(decisions.history()).isEmpty();
        // a token is a password: nothing logs it, nothing answers it back
        decide("approve", ALICE_TOKEN, "");
        assertThat(logged).isNotEmpty().noneMatch(line -> line.contains("secret-token") || line.contains("stolen-or-expired"));
        assertThat(List.of(noToken, badToken, notAllowed)).noneMatch(r -> r.body().contains("token."));
    }

    @Test
    void shouldAnswerNotFoundOrConflictOnlyToAnAllowedCaller() throws Exception {
        Events.seedRun("uid-done").forEach(this::send);

        HttpResponse<String> unknown = http.send(HttpRequest.newBuilder(uri("/api/v1/namespaces/default/abnormals/nobody/approve"))
                .header("Authorization", "Bearer " + ALICE_TOKEN).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> unknownToAStranger = http.send(HttpRequest.newBuilder(uri("/api/v1/namespaces/default/abnormals/nobody/approve"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> notWaiting = decide("approve", ALICE_TOKEN, "");

        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(json(unknown.body())).containsEntry("reason", "NotFound");
        assertThat(unknownToAStranger.statusCode()).isEqualTo(401);
        assertThat(notWaiting.statusCode()).isEqualTo(409);
        assertThat(json(notWaiting.body())).containsEntry("reason", "NotWaitingForApproval");
        assertThat(json(notWaiting.body()).get("message")).asString().contains("uid-done", "Succeeded");
        assertThat(decisions.history()).isEmpty();
    }

    @Test
    void shouldRefuseABodyTooLargeOrNotAReasonAndAnyOtherMethod() throws Exception {
        waitingRun("uid-wait").forEach(this::send);

        HttpResponse<String> large = decide("approve", ALICE_TOKEN, "{\"reason\": \"" + "x".repeat(QueryServer.MAX_DECISION_BODY_BYTES) + "\"}");
        HttpResponse<String> longReason = decide("approve", ALICE_TOKEN, "{\"reason\": \"" + "x".repeat(ApprovalDecisions.MAX_REASON_CHARS + 1) + "\"}");
        HttpResponse<String> notJson = decide("approve", ALICE_TOKEN, "approve it");
        HttpResponse<String> otherField = decide("approve", ALICE_TOKEN, "{\"onBehalfOf\": \"root\"}");
        HttpResponse<String> get = get(ONE + "/approve");
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(uri(ONE + "/deny")).PUT(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(large.statusCode()).isEqualTo(413);
        assertThat(longReason.statusCode()).isEqualTo(400);
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(otherField.statusCode()).isEqualTo(400);
        assertThat(json(otherField.body()).get("message")).asString().contains("unknown field \"onBehalfOf\"");
        assertThat(get.statusCode()).isEqualTo(405);
        assertThat(get.headers().firstValue("Allow")).hasValue("POST");
        assertThat(put.statusCode()).isEqualTo(405);
        assertThat(decisions.history()).isEmpty();
    }

    @Test
    void shouldAnswerNotImplementedWithoutARelayKeyAndWriteNothing() throws Exception {
        waitingRun("uid-wait").forEach(this::send);
        QueryServer withoutKey = QueryServer.start("127.0.0.1", 0, new StatusQueries(() -> store(StatusFoldTopology.STORE_NAME)),
                new Health(List.of(), List.of()), "kdiag.evidence", (reference, sink) -> {
                }, ApprovalRelay.off("it has no key to sign them with (kdiag.approval-relay-key)"));
        try (withoutKey) {
            HttpResponse<String> off = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + withoutKey.port() + ONE + "/approve"))
                    .header("Authorization", "Bearer " + ALICE_TOKEN).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertThat(off.statusCode()).isEqualTo(501);
            assertThat(json(off.body())).containsEntry("reason", "ApprovalRelayOff");
            assertThat(json(off.body()).get("message")).asString().contains("kdiag.approval-relay-key");
        }
        assertThat(decisions.history()).isEmpty();
    }

    /** The seed's run up to a recovery that waits for approval. */
    private static List<DiagnosisEvent> waitingRun(String uid) {
        Events run = new Events(uid);
        run.accepted();
        run.stageFinished(Stage.Diagnosis, StageOutcome.Succeeded, Events.POD_DISK_USAGE_DIAGNOSER);
        run.add(new StageStarted(Stage.Recovery));
        run.add(new ApprovalRequested(new NamespacedName("kube-diagnoser", "signal-recoverer"), "{}",
                "the label kdiag.io/require-approval of the abnormal", Events.START.plusSeconds(3600)));
        return run.all();
    }

    private HttpResponse<String> decide(String verb, String token, String body) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(ONE + "/" + verb)).POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
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
