package io.kdiag.nodeagent.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.kdiag.nodeagent.kafka.RecordVerifier.Reason;
import io.kdiag.nodeagent.kafka.RecordVerifier.Signer;
import io.kdiag.nodeagent.kafka.RecordVerifier.Untrusted;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.signing.SignatureHeaders;
import io.kdiag.schemas.signing.SigningKey;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordVerifierTest {
    private static final Topics TOPICS = Topics.withDefaultPrefix();
    private final SigningKey bridge = SigningKey.generate();
    private final SigningKey logSource = SigningKey.generate();

    @TempDir
    Path dir;

    private RecordVerifier verifier() throws IOException {
        Path bridgeKey = Files.writeString(dir.resolve("bridge.pub"), bridge.publicKeyPem());
        return RecordVerifier.load(List.of(bridgeKey), List.of(dir.resolve("log-source/signing-key.pub")));
    }

    private static AbnormalRequest request(String node, Origin origin) {
        return AbnormalRequest.newBuilder().setUid("u-" + node).setNamespace("default").setName("a").setNodeName(node)
                .setOrigin(origin).setRequestedAt(java.time.Instant.EPOCH).setSpec("{}").setLabels(java.util.Map.of()).build();
    }

    private static byte[] value(AbnormalRequest request) {
        return TOPICS.abnormals().valueSerde().serializer().serialize(TOPICS.abnormals().name(), request);
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static ConsumerRecord<byte[], byte[]> record(String key, byte[] value, Headers headers) {
        return new ConsumerRecord<>(TOPICS.abnormals().name(), 0, 7, 0, TimestampType.CREATE_TIME, 0, 0, utf8(key), value, headers,
                java.util.Optional.empty());
    }

    private static ConsumerRecord<byte[], byte[]> signed(SigningKey key, String recordKey, byte[] value) {
        Headers headers = new RecordHeaders();
        key.sign(utf8(recordKey), value, headers);
        return record(recordKey, value, headers);
    }

    private static Reason refusal(RecordVerifier verifier, ConsumerRecord<byte[], byte[]> record) {
        try {
            verifier.signer(record);
            return null;
        } catch (Untrusted e) {
            return e.reason();
        }
    }

    @Test
    void shouldAcceptTheBridgesRecordsForAnyOrigin() throws Exception {
        AbnormalRequest request = request("node-a", Origin.CustomResource);

        Signer signer = verifier().signer(signed(bridge, "node-a", value(request)));

        assertThat(signer).isEqualTo(Signer.BRIDGE);
        RecordVerifier.checkRequest(signer, request, "node-a");
    }

    @Test
    void shouldRefuseUnsignedUnknownAlteredAndReplayedRecords() throws Exception {
        RecordVerifier verifier = verifier();
        byte[] value = value(request("node-a", Origin.CustomResource));
        ConsumerRecord<byte[], byte[]> legit = signed(bridge, "node-a", value);

        assertThat(refusal(verifier, record("node-a", value, new RecordHeaders()))).isEqualTo(Reason.Unsigned);
        assertThat(refusal(verifier, signed(SigningKey.generate(), "node-a", value))).isEqualTo(Reason.UnknownKey);
        byte[] forged = value(request("node-a", Origin.PrometheusAlert));
        assertThat(refusal(verifier, record("node-a", forged, legit.headers()))).as("another value under the signature")
                .isEqualTo(Reason.BadSignature);
        // node B's record, signature and all, written under node A's key
        ConsumerRecord<byte[], byte[]> ofNodeB = signed(bridge, "node-b", value(request("node-b", Origin.CustomResource)));
        assertThat(refusal(verifier, record("node-a", ofNodeB.value(), ofNodeB.headers()))).isEqualTo(Reason.BadSignature);
        assertThat(refusal(verifier, legit)).isNull();
    }

    @Test
    void shouldTrustTheLogSourcesKeyForOriginLogOnlyAndFindItWhenItAppears() throws Exception {
        RecordVerifier verifier = verifier();
        AbnormalRequest fromLog = request("node-a", Origin.Log);
        AbnormalRequest forged = request("node-a", Origin.CustomResource);
        assertThat(refusal(verifier, signed(logSource, "node-a", value(fromLog)))).as("before the log source made its key")
                .isEqualTo(Reason.UnknownKey);

        // the log source starts after the agent and writes its public key; the next record naming it finds it
        SigningKey.readOrCreate(dir.resolve("log-source/signing-key.pem"), dir.resolve("log-source/signing-key.pub"));
        SigningKey made = SigningKey.read(dir.resolve("log-source/signing-key.pem"));
        Signer signer = verifier.signer(signed(made, "node-a", value(fromLog)));

        assertThat(signer).isEqualTo(Signer.LOG_SOURCE);
        RecordVerifier.checkRequest(signer, fromLog, "node-a");
        assertThatThrownBy(() -> RecordVerifier.checkRequest(verifier.signer(signed(made, "node-a", value(forged))), forged, "node-a"))
                .isInstanceOfSatisfying(Untrusted.class, e -> assertThat(e.reason()).isEqualTo(Reason.OriginNotAllowed))
                .hasMessageContaining("origin Log only, not CustomResource");
    }

    @Test
    void shouldRefuseARequestForAnotherNodeThanItsKey() {
        assertThatThrownBy(() -> RecordVerifier.checkRequest(Signer.BRIDGE, request("node-b", Origin.CustomResource), "node-a"))
                .isInstanceOfSatisfying(Untrusted.class, e -> assertThat(e.reason()).isEqualTo(Reason.NodeMismatch));
    }

    @Test
    void shouldStopTrustingARemovedKeyAndKeepTheKeysWhenTheFilesBreak() throws Exception {
        RecordVerifier verifier = verifier();
        SigningKey next = SigningKey.generate();
        byte[] value = value(request("node-a", Origin.CustomResource));
        Files.writeString(dir.resolve("bridge.pub"), bridge.publicKeyPem() + next.publicKeyPem());
        verifier.reload();
        assertThat(refusal(verifier, signed(next, "node-a", value))).as("the rotated-in key").isNull();

        Files.writeString(dir.resolve("bridge.pub"), next.publicKeyPem());
        verifier.reload();
        assertThat(refusal(verifier, signed(bridge, "node-a", value))).as("the rotated-out key").isEqualTo(Reason.UnknownKey);

        Files.writeString(dir.resolve("bridge.pub"), "garbage");
        verifier.reload();
        assertThat(refusal(verifier, signed(next, "node-a", value))).as("after an unreadable change").isNull();
    }

    @Test
    void shouldBuildKeysAgainOnlyWhenTheFilesChanged() throws Exception {
        RecordVerifier verifier = verifier();
        byte[] value = value(request("node-a", Origin.CustomResource));
        for (int i = 0; i < 5; i++) {
            verifier.reload();
            // a record that names a key nobody trusts makes the verifier look at the files again
            assertThat(refusal(verifier, signed(SigningKey.generate(), "node-a", value))).isEqualTo(Reason.UnknownKey);
        }
        assertThat(verifier.keyBuilds()).as("files unchanged").isZero();

        SigningKey next = SigningKey.generate();
        Files.writeString(dir.resolve("bridge.pub"), bridge.publicKeyPem() + next.publicKeyPem());
        verifier.reload();
        verifier.reload();

        assertThat(verifier.keyBuilds()).as("one change").isEqualTo(1);
        assertThat(refusal(verifier, signed(next, "node-a", value))).isNull();
    }

    @Test
    void shouldNotStartWithoutAKeyOfTheBridge() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty"));

        assertThatThrownBy(() -> RecordVerifier.load(List.of(empty), List.of())).hasMessageContaining("no verification key in");
        assertThatThrownBy(() -> RecordVerifier.load(List.of(dir.resolve("missing.pub")), List.of())).hasMessageContaining("no such file");
    }

    @Test
    void shouldQuoteAForgedKeyIdOnlyAsFarAsItCanBeOne() throws Exception {
        Headers headers = new RecordHeaders().add(SignatureHeaders.KEY_ID, utf8("x\nlevel=ERROR " + "y".repeat(100)))
                .add(SignatureHeaders.SIGNATURE, new byte[64]);

        assertThatThrownBy(() -> verifier().signer(record("node-a", utf8("v"), headers)))
                .hasMessageContaining("signed with key x?level?ERROR?yyy").hasMessageNotContaining("\n");
    }
}
