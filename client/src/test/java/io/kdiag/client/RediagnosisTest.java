package io.kdiag.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.ProcessorSpec;
import io.kdiag.schemas.Evidence;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.builtin.PodDiskUsageDiagnoser;
import io.kdiag.stageworkers.builtin.ProcessMatchDiagnoser;
import io.kdiag.stageworkers.builtin.SignalRecoverer;
import io.kdiag.testkit.RecordedEvents;
import org.junit.jupiter.api.Test;

class RediagnosisTest {
    private static final String PROCESSES = "[{\"pid\":4242,\"command\":[\"java\",\"-jar\",\"shop.jar\"]},"
            + "{\"pid\":4343,\"command\":[\"nginx\",\"-g\",\"daemon off;\"]}]";
    private static final String SPEC = "{\"nodeName\":\"node-1\",\"context\":{\"processMatch\":{\"commandPattern\":\"^java \"}}}";
    private static final String IDENTIFIED_JAVA = "{\"processMatchDiagnosis\":[{\"pid\":4242,\"command\":[\"java\",\"-jar\",\"shop.jar\"]}],"
            + "\"signalRecovery\":[{\"pid\":4242,\"signal\":15}]}";
    private static final Evidence.Reference BIG = new Evidence.Reference("kdiag.evidence", 1, List.of(7L),
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", PROCESSES.length(), "application/json");

    private static Rediagnosis rediagnosis(Map<String, Object> overrides) {
        return Rediagnosis.builtIn(new ProcessMatchDiagnoser(), reference -> {
            throw new IOException("no evidence in this test");
        }, overrides);
    }

    private static EventLog log(List<List<DiagnosisEvent>> abnormals) {
        EventLog log = new EventLog();
        abnormals.forEach(events -> events.forEach(log::add));
        return log;
    }

    @Test
    void shouldListNothingWhenTheDiagnoserConcludesAsRecorded() throws Exception {
        List<DiagnosisEvent> identified = new RecordedEvents("u1").accepted("shop", SPEC).collected(1_000, PROCESSES)
                .diagnosed(2_000, "process-match-diagnoser", true, IDENTIFIED_JAVA, null).list();

        try (Rediagnosis rediagnosis = rediagnosis(Map.of())) {
            Rediagnosis.Outcome outcome = rediagnosis.run(log(List.of(identified)), RecordedEvents.T0);

            assertThat(outcome.considered()).isEqualTo(1);
            assertThat(outcome.rediagnosed()).isEqualTo(1);
            assertThat(outcome.differing()).isEmpty();
        }
    }

    @Test
    void shouldListChangedVerdictsAndChangedValues() throws Exception {
        List<DiagnosisEvent> identified = new RecordedEvents("u1").accepted("shop", SPEC).collected(1_000, PROCESSES)
                .diagnosed(2_000, "process-match-diagnoser", true, IDENTIFIED_JAVA, null).list();
        List<DiagnosisEvent> unidentified = new RecordedEvents("u2").accepted("nothing", SPEC).collected(1_000, "[]")
                .diagnosed(2_000, "process-match-diagnoser", false, null, "NoMatchingProcess").list();
        List<DiagnosisEvent> notRun = new RecordedEvents("u3").accepted("collect-only", SPEC).collected(1_000, PROCESSES).list();

        try (Rediagnosis rediagnosis = rediagnosis(Map.of("processMatch", Map.of("commandPattern", "^nginx")))) {
            Rediagnosis.Outcome outcome = rediagnosis.run(log(List.of(identified, unidentified, notRun)), RecordedEvents.T0);

            // u1 still identifies, the same keys, but another process; u2 still finds nothing; u3 never ran the diagnoser
            assertThat(outcome.differing()).extracting(f -> f.status().getName()).containsExactly("shop", "collect-only");
            Rediagnosis.Finding shop = outcome.differing().get(0);
            assertThat(shop.recorded().sameAs(shop.rediagnosed())).isTrue();
            assertThat(shop.valueChanges()).containsExactly(
                    "processMatchDiagnosis[0].pid: 4242 → 4343",
                    "processMatchDiagnosis[0].command[0]: \"java\" → \"nginx\"",
                    "processMatchDiagnosis[0].command[1]: \"-jar\" → \"-g\"",
                    "processMatchDiagnosis[0].command[2]: \"shop.jar\" → \"daemon off;\"",
                    "signalRecovery[0].pid: 4242 → 4343");
            Rediagnosis.Finding collectOnly = outcome.differing().get(1);
            assertThat(collectOnly.recorded().describe()).isEqualTo("not run");
            assertThat(collectOnly.rediagnosed().describe()).isEqualTo("identified: processMatchDiagnosis, signalRecovery");
            assertThat(collectOnly.valueChanges()).first().asString().startsWith("processMatchDiagnosis: added [{");
        }
    }

    @Test
    void shouldRunOnTheRecordedEvidenceWithLargeValuesReadBack() throws Exception {
        String spec = "{\"nodeName\":\"node-1\",\"context\":{\"processMatch\":{\"commandPattern\":\"^nginx\"}}}";
        String kept = ApiSerialization.json(Map.of("processInformation", BIG.toContextValue()));
        List<DiagnosisEvent> events = new RecordedEvents("u1").accepted("shop", spec).collected(1_000, "null").list().stream()
                .map(e -> e.getPayload() instanceof ProcessorFinished p
                        ? DiagnosisEvent.newBuilder(e).setPayload(ProcessorFinished.newBuilder(p).setContextUpdates(kept).build()).build()
                        : e)
                .toList();

        try (Rediagnosis rediagnosis = Rediagnosis.builtIn(new ProcessMatchDiagnoser(),
                reference -> reference.equals(BIG) ? PROCESSES.getBytes(StandardCharsets.UTF_8) : null, Map.of())) {
            Rediagnosis.Finding finding = rediagnosis.rediagnose(events).orElseThrow();

            assertThat(finding.rediagnosed().describe()).isEqualTo("identified: processMatchDiagnosis, signalRecovery");
            assertThat(finding.valueChanges()).contains("signalRecovery: added [{\"pid\":4343,\"signal\":15}]");
        }
        try (Rediagnosis gone = rediagnosis(Map.of())) {
            Rediagnosis.Outcome outcome = gone.run(log(List.of(events)), RecordedEvents.T0);
            assertThat(outcome.unreadableEvidence()).isEqualTo(1);
            assertThat(outcome.rediagnosed()).isZero();
        }
    }

    @Test
    void shouldCountAbnormalsLackingAnInputInsteadOfListingThem() throws Exception {
        String noPattern = "{\"nodeName\":\"node-1\"}";
        List<DiagnosisEvent> events = new RecordedEvents("u1").accepted("shop", noPattern).collected(1_000, PROCESSES).list();

        try (Rediagnosis rediagnosis = rediagnosis(Map.of())) {
            Rediagnosis.Outcome outcome = rediagnosis.run(log(List.of(events)), RecordedEvents.T0);

            assertThat(outcome.rediagnosed()).isEqualTo(1);
            assertThat(outcome.lackingInput()).isEqualTo(1);
            assertThat(outcome.differing()).isEmpty();
        }
    }

    @Test
    void shouldGiveHostReadingDiagnosersNothingOfThisMachine() throws Exception {
        String pods = "{\"nodeName\":\"node-1\"}";
        String podInformation = "[{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"2bfed5a3-67fd-4721-99ae-6d584150c891\"},\"spec\":{\"nodeName\":\"node-1\"}}]";
        List<DiagnosisEvent> events = new RecordedEvents("u1").accepted("disk", pods).collected(1_000, "[]").list().stream()
                .map(e -> e.getPayload() instanceof ProcessorFinished p
                        ? DiagnosisEvent.newBuilder(e).setPayload(ProcessorFinished.newBuilder(p)
                                .setContextUpdates("{\"podInformation\":" + podInformation + "}").build()).build()
                        : e)
                .toList();

        try (Rediagnosis rediagnosis = Rediagnosis.builtIn(new PodDiskUsageDiagnoser(), reference -> null, Map.of())) {
            Rediagnosis.Finding finding = rediagnosis.rediagnose(events).orElseThrow();

            assertThat(finding.rediagnosed().reason()).isEqualTo(Rediagnosis.MISSING_INPUT);
        }
    }

    @Test
    void shouldSkipAbnormalsWithoutASuccessfulCollectionOrOlderThanSince() throws Exception {
        List<DiagnosisEvent> noCollection = new RecordedEvents("u1").accepted("early-failure", SPEC).list();
        List<DiagnosisEvent> old = new RecordedEvents("u2").accepted("old", SPEC).collected(1_000, PROCESSES).list();

        try (Rediagnosis rediagnosis = rediagnosis(Map.of())) {
            Rediagnosis.Outcome outcome = rediagnosis.run(log(List.of(noCollection)), RecordedEvents.T0);
            Rediagnosis.Outcome later = rediagnosis.run(log(List.of(old)), RecordedEvents.T0.plusSeconds(1));

            assertThat(outcome.considered()).isEqualTo(1);
            assertThat(outcome.rediagnosed()).isZero();
            assertThat(later.considered()).isZero();
        }
    }

    @Test
    void shouldCallARegisteredDiagnoserOverKubeDiagsProtocolWithTheRecordedAbnormal() throws Exception {
        List<String> received = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/diagnose", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            received.add(body);
            Abnormal abnormal = ApiSerialization.abnormal(body);
            abnormal.getStatus().context.put("shopDiagnosis", Map.of("verdict", "leaking"));
            byte[] answer = ApiSerialization.json(abnormal).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        server.start();
        try {
            ProcessorSpec registration = new ProcessorSpec();
            registration.ip = "127.0.0.1";
            registration.port = new IntOrString(server.getAddress().getPort());
            registration.path = "/diagnose";
            String recordedOutput = "{\"shopDiagnosis\":{\"verdict\":\"fine\"}}";
            List<DiagnosisEvent> events = new RecordedEvents("u1").accepted("shop", SPEC).collected(1_000, PROCESSES)
                    .diagnosed(2_000, "shop-diagnoser", true, recordedOutput, null).list().stream()
                    .map(e -> e.getPayload() instanceof ProcessorFinished p && p.getStage() == Stage.Diagnosis
                            ? DiagnosisEvent.newBuilder(e).setPayload(ProcessorFinished.newBuilder(p)
                                    .setProcessor(new NamespacedName("team", "shop-diagnoser")).build()).build()
                            : e)
                    .toList();

            try (Rediagnosis rediagnosis = Rediagnosis.registered("team/shop-diagnoser", registration, false, reference -> null, Map.of())) {
                Rediagnosis.Finding finding = rediagnosis.rediagnose(events).orElseThrow();

                assertThat(finding.recorded().describe()).isEqualTo("identified: shopDiagnosis");
                assertThat(finding.valueChanges()).containsExactly("shopDiagnosis.verdict: \"fine\" → \"leaking\"");
            }
            Abnormal sent = ApiSerialization.abnormal(received.get(0));
            assertThat(sent.getMetadata().getName()).isEqualTo("shop");
            assertThat(sent.getStatus().context).containsKey("processInformation");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void shouldRefuseARegistrationThatNamesTheAgentsOwnServer() {
        ProcessorSpec registration = new ProcessorSpec();
        registration.path = "/diagnoser/processmatchdiagnoser";

        assertThatThrownBy(() -> Rediagnosis.registered("team/own", registration, false, reference -> null, Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("has no address of its own");
    }

    @Test
    void shouldNeverRunARecoverer() {
        assertThatThrownBy(() -> Rediagnosis.builtIn(new SignalRecoverer(), reference -> null, Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("signal-recoverer is not a diagnoser");
    }

    @Test
    void shouldReadTheRecordedRunOfThatDiagnoserOnly() {
        List<DiagnosisEvent> events = new RecordedEvents("u1").accepted("x", SPEC).collected(1_000, PROCESSES)
                .diagnosed(2_000, "other-diagnoser", true, "{\"k\":1}", null).list();

        assertThat(Rediagnosis.recorded(events, "process-match-diagnoser")).isEmpty();
        assertThat(Rediagnosis.recorded(events, "other-diagnoser")).isPresent();
        assertThat(Rediagnosis.recorded(events, "kube-diagnoser/other-diagnoser")).isPresent();
    }
}
