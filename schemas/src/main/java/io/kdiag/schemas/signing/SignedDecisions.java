package io.kdiag.schemas.signing;

import io.kdiag.schemas.Topic;
import io.kdiag.schemas.avro.ApprovalDecision;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/** The one way to write an approval decision: keyed by the abnormal's node, signed in the approvals' own domain. */
public final class SignedDecisions {
    private SignedDecisions() {
    }

    /**
     * The record of a decision, signed with {@code key}: an approver's own key (then {@code onBehalfOf} must be empty),
     * or a relay's key vouching for {@code decision.getOnBehalfOf()}.
     */
    public static ProducerRecord<byte[], byte[]> record(Topic<String, ApprovalDecision> approvals, String nodeName,
            ApprovalDecision decision, SigningKey key) {
        byte[] recordKey = approvals.keySerde().serializer().serialize(approvals.name(), nodeName);
        byte[] value = approvals.valueSerde().serializer().serialize(approvals.name(), decision);
        RecordHeaders headers = new RecordHeaders();
        key.sign(SignatureDomain.APPROVALS, recordKey, value, headers);
        return new ProducerRecord<>(approvals.name(), null, recordKey, value, headers);
    }
}
