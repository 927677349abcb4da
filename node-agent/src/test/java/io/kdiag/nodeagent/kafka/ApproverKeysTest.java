package io.kdiag.nodeagent.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import io.kdiag.nodeagent.kafka.RecordVerifier.Reason;
import io.kdiag.nodeagent.kafka.RecordVerifier.Untrusted;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.ApprovalDecision;
import io.kdiag.schemas.signing.SignedDecisions;
import io.kdiag.schemas.signing.SigningKey;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApproverKeysTest {
    private static final Topics TOPICS = Topics.withDefaultPrefix();
    private final SigningKey alice = SigningKey.generate();
    private final SigningKey statusWriter = SigningKey.generate();

    @TempDir
    Path dir;
    private Path approvers;
    private Path relays;

    @BeforeEach
    void keys() throws IOException {
        approvers = Files.createDirectories(dir.resolve("approvers"));
        relays = Files.createDirectories(dir.resolve("relays"));
        Files.writeString(approvers.resolve("alice.pub"), alice.publicKeyPem());
        Files.writeString(relays.resolve("status-writer.pub"), statusWriter.publicKeyPem());
    }

    private static ConsumerRecord<byte[], byte[]> signed(SigningKey key, String onBehalfOf) {
        ApprovalDecision decision = new ApprovalDecision("uid-1", 7L, true, Instant.EPOCH, null, onBehalfOf);
        ProducerRecord<byte[], byte[]> record = SignedDecisions.record(TOPICS.approvals(), "node-a", decision, key);
        return new ConsumerRecord<>(record.topic(), 0, 0, 0, TimestampType.CREATE_TIME, 0, 0, record.key(), record.value(),
                record.headers(), Optional.empty());
    }

    private static String decidedBy(ApproverKeys keys, ConsumerRecord<byte[], byte[]> record) throws Untrusted, ApproverKeys.Refused {
        ApprovalDecision decision = TOPICS.approvals().valueSerde().deserializer().deserialize(record.topic(), record.value());
        return keys.signer(record).decidedBy(decision);
    }

    /** Why the decision is refused: a {@link Reason} of its signature or a {@link ApproverKeys.Refusal}; null if it is not. */
    private static Enum<?> refusal(ApproverKeys keys, ConsumerRecord<byte[], byte[]> record) {
        try {
            decidedBy(keys, record);
            return null;
        } catch (Untrusted e) {
            return e.reason();
        } catch (ApproverKeys.Refused e) {
            return e.refusal();
        }
    }

    @Test
    void shouldTakeWhoDecidedFromTheApproversKeyFile() throws Exception {
        assertThat(decidedBy(ApproverKeys.load(List.of(approvers), List.of(relays)), signed(alice, null))).isEqualTo("alice");
    }

    @Test
    void shouldCreditARelayedDecisionToThePersonTheRelayVouchesFor() throws Exception {
        ApproverKeys keys = ApproverKeys.load(List.of(approvers), List.of(relays));

        assertThat(decidedBy(keys, signed(statusWriter, "bob@example.com"))).isEqualTo("bob@example.com via status-writer");
        assertThat(decidedBy(keys, signed(statusWriter, "system:serviceaccount:ops:approver")))
                .isEqualTo("system:serviceaccount:ops:approver via status-writer");
    }

    @Test
    void shouldRefuseAnApproverSpeakingForSomeoneElse() throws Exception {
        ApproverKeys keys = ApproverKeys.load(List.of(approvers), List.of(relays));

        assertThat(refusal(keys, signed(alice, "bob"))).isEqualTo(ApproverKeys.Refusal.OnBehalfOfNotAllowed);
        assertThatThrownBy(() -> decidedBy(keys, signed(alice, "bob"))).hasMessageContaining("approver alice")
                .hasMessageContaining("\"bob\"");
    }

    @Test
    void shouldRefuseARelayedDecisionThatNamesNobodyOrNoPossibleName() throws Exception {
        ApproverKeys keys = ApproverKeys.load(List.of(approvers), List.of(relays));

        assertThat(refusal(keys, signed(statusWriter, null))).isEqualTo(ApproverKeys.Refusal.OnBehalfOfMissing);
        assertThat(refusal(keys, signed(statusWriter, ""))).isEqualTo(ApproverKeys.Refusal.OnBehalfOfMissing);
        // a space would let the name forge "eve via status-writer" inside the status
        assertThat(refusal(keys, signed(statusWriter, "eve via root"))).isEqualTo(ApproverKeys.Refusal.OnBehalfOfMissing);
        assertThat(refusal(keys, signed(statusWriter, "eve\nforged=line"))).isEqualTo(ApproverKeys.Refusal.OnBehalfOfMissing);
        assertThat(refusal(keys, signed(statusWriter, "x".repeat(257)))).isEqualTo(ApproverKeys.Refusal.OnBehalfOfMissing);
    }

    @Test
    void shouldRefuseRelayedDecisionsWhenNoRelayIsTrusted() throws Exception {
        ApproverKeys keys = ApproverKeys.load(List.of(approvers), List.of());

        assertThat(refusal(keys, signed(statusWriter, "bob"))).isEqualTo(Reason.UnknownKey);
        assertThat(refusal(keys, signed(SigningKey.generate(), null))).isEqualTo(Reason.UnknownKey);
    }

    @Test
    void shouldTrustARelayKeyAddedWhileRunningAndForgetOneRemoved() throws Exception {
        ApproverKeys keys = ApproverKeys.load(List.of(approvers), List.of(relays));
        SigningKey bridge = SigningKey.generate();
        assertThat(refusal(keys, signed(bridge, "bob"))).isEqualTo(Reason.UnknownKey);

        Files.writeString(relays.resolve("source-bridge.pub"), bridge.publicKeyPem());
        assertThat(decidedBy(keys, signed(bridge, "bob"))).isEqualTo("bob via source-bridge");

        Files.delete(relays.resolve("status-writer.pub"));
        keys.reload();
        assertThat(refusal(keys, signed(statusWriter, "bob"))).isEqualTo(Reason.UnknownKey);
    }

    @Test
    void shouldBuildKeysAgainOnlyWhenTheFilesChanged() throws Exception {
        ApproverKeys keys = ApproverKeys.load(List.of(approvers), List.of(relays));
        for (int i = 0; i < 5; i++) {
            keys.reload();
            // a decision that names a key nobody trusts makes it look at the files again
            assertThat(refusal(keys, signed(SigningKey.generate(), null))).isEqualTo(Reason.UnknownKey);
        }
        assertThat(keys.keyBuilds()).as("files unchanged").isZero();

        SigningKey bob = SigningKey.generate();
        Files.writeString(approvers.resolve("bob.pub"), bob.publicKeyPem());
        keys.reload();
        keys.reload();

        assertThat(keys.keyBuilds()).as("one change").isEqualTo(1);
        assertThat(decidedBy(keys, signed(bob, null))).isEqualTo("bob");
    }
}
