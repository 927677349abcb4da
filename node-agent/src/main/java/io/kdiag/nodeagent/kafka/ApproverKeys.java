package io.kdiag.nodeagent.kafka;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.kdiag.model.ApprovalDecisions;
import io.kdiag.schemas.avro.ApprovalDecision;
import io.kdiag.schemas.signing.KeyFiles;
import io.kdiag.schemas.signing.SignatureDomain;
import io.kdiag.schemas.signing.VerificationKeys;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who decided an approval decision, from the key that signed it. Two kinds of keys, each named after its file:
 * <ul>
 * <li>approvers' ({@code kdiag.approver-keys}): {@code alice.pub} holds Alice's keys, so a decision it verifies was
 * decided by {@code alice}, who speaks for herself only (a decision naming {@code onBehalfOf} is refused);</li>
 * <li>relays' ({@code kdiag.approval-relay-keys}): {@code status-writer.pub} holds the key of a component that
 * authenticated a person with Kubernetes and found them allowed to approve; a decision it verifies must name that
 * person in {@code onBehalfOf}, and was decided by {@code "bob via status-writer"}.</li>
 * </ul>
 * The names come from the operator who installed the files and from what a trusted relay vouches for, never from an
 * unverified record. With no key, no decision verifies and every wait for approval ends at its deadline.
 *
 * <p>The files are read again when a decision names a key this does not know, and by {@link #reload()}, so adding or
 * removing an approver or a relay needs no restart; keys are built again only when the files' bytes changed
 * ({@link KeyFiles}). Files that cannot be read keep the keys in force.
 */
public final class ApproverKeys {
    private static final Logger LOG = LoggerFactory.getLogger(ApproverKeys.class);

    /** The keys of one kind, and whose each key is. */
    private record Named(VerificationKeys all, Map<String, String> nameByKeyId) {
        static Named read(KeyFiles files) throws IOException {
            VerificationKeys all = VerificationKeys.NONE;
            Map<String, String> nameByKeyId = new LinkedHashMap<>();
            for (KeyFiles.File file : files.files()) {
                String fileName = file.path().getFileName().toString();
                String name = fileName.contains(".") ? fileName.substring(0, fileName.lastIndexOf('.')) : fileName;
                VerificationKeys ofFile = VerificationKeys.read(file);
                for (String keyId : ofFile.keyIds()) {
                    nameByKeyId.put(keyId, name);
                }
                all = all.and(ofFile);
            }
            return new Named(all, Map.copyOf(nameByKeyId));
        }

        VerificationKeys.Check check(ConsumerRecord<byte[], byte[]> record) {
            return all.check(SignatureDomain.APPROVALS, record.key(), record.value(), record.headers());
        }
    }

    private record Keys(Named approvers, Named relays) {
    }

    /** What the key files held when a read built keys from them. */
    private record Sources(KeyFiles approvers, KeyFiles relays) {
        boolean sameAs(Sources other) {
            return other != null && approvers.sameAs(other.approvers) && relays.sameAs(other.relays);
        }
    }

    /** Why a decision that verified is still refused: its signer may not speak for the one it names. */
    enum Refusal {
        /** An approver's own key signed a decision that names someone else in {@code onBehalfOf}. */
        OnBehalfOfNotAllowed,
        /** A relay's key signed a decision that names no person (or no name a person can have) in {@code onBehalfOf}. */
        OnBehalfOfMissing
    }

    /** A verified decision refused for its {@code onBehalfOf}; the message starts with the {@link Refusal}. */
    static final class Refused extends Exception {
        private final Refusal refusal;

        Refused(Refusal refusal, String message) {
            super(refusal + ": " + message);
            this.refusal = refusal;
        }

        Refusal refusal() {
            return refusal;
        }
    }

    /**
     * Whose key verified a decision record, before its value is read.
     *
     * @param name the approver's or the relay's name, from its key file
     * @param relay whether the key is a relay's
     */
    public record Signer(String name, boolean relay) {
        /**
         * Who decided {@code decision}, as the status shows it: the approver, or the person the relay vouches for.
         *
         * @throws Refused {@code OnBehalfOfNotAllowed} (an approver naming someone else), {@code OnBehalfOfMissing} (a
         *     relay naming nobody, or no name a person can have)
         */
        String decidedBy(ApprovalDecision decision) throws Refused {
            String onBehalfOf = decision.getOnBehalfOf();
            if (!relay) {
                if (onBehalfOf != null) {
                    throw new Refused(Refusal.OnBehalfOfNotAllowed, "approver " + name
                            + " signed a decision on behalf of " + ApprovalDecisions.quoted(onBehalfOf)
                            + "; an approver decides for themself only, and only a relay's key vouches for someone else");
                }
                return name;
            }
            if (!ApprovalDecisions.isPerson(onBehalfOf)) {
                throw new Refused(Refusal.OnBehalfOfMissing, "relay " + name + " signed a decision on behalf of "
                        + (onBehalfOf == null ? "nobody" : ApprovalDecisions.quoted(onBehalfOf)) + "; a relay's decision must name the "
                        + "person it authenticated (" + ApprovalDecisions.PERSON_RULE + ")");
            }
            return ApprovalDecisions.relayed(onBehalfOf, name);
        }
    }

    private final List<Path> approverPaths;
    private final List<Path> relayPaths;
    private volatile Keys keys;
    /** The files the keys in force were built from; guarded by this. */
    private Sources keysFrom;
    /** How many reads built keys; guarded by this. */
    private int keyBuilds;

    private ApproverKeys(List<Path> approverPaths, List<Path> relayPaths, Keys keys, Sources keysFrom) {
        this.approverPaths = List.copyOf(approverPaths);
        this.relayPaths = List.copyOf(relayPaths);
        this.keys = keys;
        this.keysFrom = keysFrom;
    }

    /**
     * Reads the keys.
     *
     * @param approverPaths PEM files, or folders whose files are PEM files (names starting with a dot are skipped); each
     *     file's name without its extension is its approver's
     * @param relayPaths the same for relays' keys; each file's name is its relay's
     * @throws IOException if a path does not exist or a file does not hold Ed25519 public keys
     */
    public static ApproverKeys load(List<Path> approverPaths, List<Path> relayPaths) throws IOException {
        Sources sources = sources(approverPaths, relayPaths);
        Keys keys = keys(sources);
        LOG.info("approver keys loaded approvers={} relays={}", keys.approvers().nameByKeyId(), keys.relays().nameByKeyId());
        return new ApproverKeys(approverPaths, relayPaths, keys, sources);
    }

    private static Sources sources(List<Path> approverPaths, List<Path> relayPaths) throws IOException {
        return new Sources(KeyFiles.read(approverPaths), KeyFiles.read(relayPaths));
    }

    private static Keys keys(Sources sources) throws IOException {
        return new Keys(Named.read(sources.approvers()), Named.read(sources.relays()));
    }

    /**
     * Reads the key files again and builds keys from them if they changed; a change of keys is logged, an unreadable
     * file keeps the keys in force.
     */
    public synchronized void reload() {
        Sources sources;
        Keys read;
        try {
            sources = sources(approverPaths, relayPaths);
            if (sources.sameAs(keysFrom)) {
                return;
            }
            keyBuilds++;
            read = keys(sources);
        } catch (IOException | RuntimeException e) {
            LOG.warn("approver keys unreadable, keeping the previous ones reason={}", e.getMessage());
            return;
        }
        keysFrom = sources;
        if (!read.equals(keys)) {
            keys = read;
            LOG.info("approver keys reloaded approvers={} relays={}", read.approvers().nameByKeyId(), read.relays().nameByKeyId());
        }
    }

    /** How many reloads found the files changed and built keys from them. */
    synchronized int keyBuilds() {
        return keyBuilds;
    }

    /**
     * Whose key signed a decision record: an approver's first, else a relay's.
     *
     * @throws RecordVerifier.Untrusted {@code Unsigned}, {@code UnknownKey} (neither an approver's nor a relay's key) or
     *     {@code BadSignature}
     */
    Signer signer(ConsumerRecord<byte[], byte[]> record) throws RecordVerifier.Untrusted {
        Keys current = keys;
        if (check(current, record) == VerificationKeys.Check.UNKNOWN_KEY) {
            reload();
            current = keys;
        }
        String keyId = RecordVerifier.keyId(record);
        switch (check(current, record)) {
            case VERIFIED -> {
                String approver = current.approvers().nameByKeyId().get(keyId);
                return approver != null ? new Signer(approver, false) : new Signer(current.relays().nameByKeyId().get(keyId), true);
            }
            case UNSIGNED -> throw new RecordVerifier.Untrusted(RecordVerifier.Reason.Unsigned,
                    "the decision carries no signature; an approver or a relay signs every decision with its key");
            case UNKNOWN_KEY -> throw new RecordVerifier.Untrusted(RecordVerifier.Reason.UnknownKey, "signed with key " + keyId
                    + ", which is no approver's " + current.approvers().nameByKeyId().keySet() + " nor a relay's "
                    + current.relays().nameByKeyId().keySet());
            default -> throw new RecordVerifier.Untrusted(RecordVerifier.Reason.BadSignature, "the signature of key " + keyId
                    + " does not match the decision's key (its node) and value: forged, altered, or copied from another node's");
        }
    }

    /** The approvers' verdict on the record if any of their keys is the signer's, else the relays'. */
    private static VerificationKeys.Check check(Keys keys, ConsumerRecord<byte[], byte[]> record) {
        VerificationKeys.Check approvers = keys.approvers().check(record);
        return approvers == VerificationKeys.Check.UNKNOWN_KEY ? keys.relays().check(record) : approvers;
    }
}
