package io.kdiag.nodeagent.kafka;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.kdiag.schemas.signing.SignatureDomain;
import io.kdiag.schemas.signing.VerificationKeys;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public keys of the people who may approve or deny recoveries ({@code kdiag.approver-keys}), each named after its
 * file: {@code alice.pub} holds Alice's keys, so a decision that {@code alice.pub} verifies was decided by {@code alice}.
 * The name comes from the operator who installed the file, never from the record. With no key, no decision verifies and
 * every wait for approval ends at its deadline.
 *
 * <p>The files are read again when a decision names a key this does not know, and by {@link #reload()}, so adding or
 * removing an approver needs no restart. Files that cannot be read keep the keys in force.
 */
public final class ApproverKeys {
    private static final Logger LOG = LoggerFactory.getLogger(ApproverKeys.class);

    private record Keys(VerificationKeys all, Map<String, String> approverByKeyId) {
    }

    private final List<Path> paths;
    private volatile Keys keys;

    private ApproverKeys(List<Path> paths, Keys keys) {
        this.paths = List.copyOf(paths);
        this.keys = keys;
    }

    /**
     * Reads the keys.
     *
     * @param paths PEM files, or folders whose files are PEM files (names starting with a dot are skipped); each file's
     *     name without its extension is its approver's
     * @throws IOException if a path does not exist or a file does not hold Ed25519 public keys
     */
    public static ApproverKeys load(List<Path> paths) throws IOException {
        Keys keys = read(paths);
        LOG.info("approver keys loaded approvers={}", keys.approverByKeyId());
        return new ApproverKeys(paths, keys);
    }

    private static Keys read(List<Path> paths) throws IOException {
        VerificationKeys all = VerificationKeys.NONE;
        Map<String, String> approverByKeyId = new LinkedHashMap<>();
        for (Path file : VerificationKeys.files(paths)) {
            String name = file.getFileName().toString();
            String approver = name.contains(".") ? name.substring(0, name.lastIndexOf('.')) : name;
            VerificationKeys ofFile = VerificationKeys.read(List.of(file));
            for (String keyId : ofFile.keyIds()) {
                approverByKeyId.put(keyId, approver);
            }
            all = all.and(ofFile);
        }
        return new Keys(all, Map.copyOf(approverByKeyId));
    }

    /** Reads the key files again; a change is logged, an unreadable file keeps the keys in force. */
    public synchronized void reload() {
        Keys read;
        try {
            read = read(paths);
        } catch (IOException | RuntimeException e) {
            LOG.warn("approver keys unreadable, keeping the previous ones reason={}", e.getMessage());
            return;
        }
        if (!read.approverByKeyId().equals(keys.approverByKeyId()) || !read.all().equals(keys.all())) {
            keys = read;
            LOG.info("approver keys reloaded approvers={}", read.approverByKeyId());
        }
    }

    /**
     * The approver who signed a decision record.
     *
     * @throws RecordVerifier.Untrusted {@code Unsigned}, {@code UnknownKey} (no approver's key) or {@code BadSignature}
     */
    String approver(ConsumerRecord<byte[], byte[]> record) throws RecordVerifier.Untrusted {
        Keys current = keys;
        VerificationKeys.Check check = current.all().check(SignatureDomain.APPROVALS, record.key(), record.value(), record.headers());
        if (check == VerificationKeys.Check.UNKNOWN_KEY) {
            reload();
            current = keys;
            check = current.all().check(SignatureDomain.APPROVALS, record.key(), record.value(), record.headers());
        }
        String keyId = RecordVerifier.keyId(record);
        switch (check) {
            case VERIFIED -> {
                return current.approverByKeyId().get(keyId);
            }
            case UNSIGNED -> throw new RecordVerifier.Untrusted(RecordVerifier.Reason.Unsigned,
                    "the decision carries no signature; an approver signs every decision with their key");
            case UNKNOWN_KEY -> throw new RecordVerifier.Untrusted(RecordVerifier.Reason.UnknownKey, "signed with key " + keyId
                    + ", which is no approver's " + current.approverByKeyId().keySet());
            default -> throw new RecordVerifier.Untrusted(RecordVerifier.Reason.BadSignature, "the signature of key " + keyId
                    + " does not match the decision's key (its node) and value: forged, altered, or copied from another node's");
        }
    }
}
