package io.kdiag.nodeagent.kafka;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.signing.KeyFiles;
import io.kdiag.schemas.signing.SignatureHeaders;
import io.kdiag.schemas.signing.VerificationKeys;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides whether a record of {@code kdiag.abnormals} came from a gate, before anything of it is read. The bridge's
 * keys ({@code kdiag.verification-keys}) vouch for any origin; a log source's key ({@code
 * kdiag.log-source-verification-keys}, the key the log source of this node made) only for origin {@code Log}, so a
 * node whose log source is compromised can forge neither for another node (the agent of another node does not know
 * this key) nor an origin the policy may trust more. The signature covers the record key, which is the node name: a
 * record of another node, signature and all, does not verify under this node's key.
 *
 * <p>The key files are read again when a record names a key this verifier does not know (a rotation, or a log source
 * that made its key after the agent started) and by {@link #reload()}, so a key removed from a mounted Secret stops
 * being trusted without a restart; keys are built again only when the files' bytes changed ({@link KeyFiles}). Files
 * that cannot be read keep the keys in force.
 */
public final class RecordVerifier {
    private static final Logger LOG = LoggerFactory.getLogger(RecordVerifier.class);
    private static final int MAX_KEY_ID_CHARS = 64;

    /** Who signed a record that verified. */
    enum Signer {
        /** The source bridge: any origin. */
        BRIDGE,
        /** This node's log source: origin {@code Log} only. */
        LOG_SOURCE
    }

    /** Why a record is refused; the name is the {@code reason} label of {@code kdiag_agent_records_refused_total}. */
    enum Reason {
        /** No signature headers. */
        Unsigned,
        /** Signed by a key none of the trusted ones is. */
        UnknownKey,
        /** The signature does not match the record. */
        BadSignature,
        /** Verified, but its signer cannot vouch for its origin. */
        OriginNotAllowed,
        /** Verified, but the request names another node than its key. */
        NodeMismatch
    }

    /** A record that is not run, with why. */
    static final class Untrusted extends Exception {
        private final Reason reason;

        Untrusted(Reason reason, String message) {
            super(reason + ": " + message);
            this.reason = reason;
        }

        Reason reason() {
            return reason;
        }
    }

    private record Keys(VerificationKeys bridge, VerificationKeys logSource) {
    }

    /** What the key files held when a read built keys from them. */
    private record Sources(KeyFiles bridge, KeyFiles logSource) {
        boolean sameAs(Sources other) {
            return other != null && bridge.sameAs(other.bridge) && logSource.sameAs(other.logSource);
        }
    }

    private final List<Path> bridgeFiles;
    private final List<Path> logSourceFiles;
    private volatile Keys keys;
    /** The files the keys in force were built from; guarded by this. */
    private Sources keysFrom;
    /** How many reads built keys; guarded by this. */
    private int keyBuilds;

    private RecordVerifier(List<Path> bridgeFiles, List<Path> logSourceFiles, Keys keys, Sources keysFrom) {
        this.bridgeFiles = List.copyOf(bridgeFiles);
        this.logSourceFiles = List.copyOf(logSourceFiles);
        this.keys = keys;
        this.keysFrom = keysFrom;
    }

    /**
     * Reads the keys.
     *
     * @param bridgeFiles PEM files or folders of them; they must exist and hold at least one key
     * @param logSourceFiles the same for the node's log source; a path that does not exist (yet) holds no key
     * @throws IOException if the bridge's keys cannot be read or there is none, or a log source key file is unreadable
     */
    public static RecordVerifier load(List<Path> bridgeFiles, List<Path> logSourceFiles) throws IOException {
        Sources sources = sources(bridgeFiles, logSourceFiles);
        Keys keys = keys(sources);
        if (keys.bridge().isEmpty()) {
            throw new IOException("no verification key in " + bridgeFiles);
        }
        LOG.info("verification keys loaded bridge={} logSource={}", keys.bridge().keyIds(), keys.logSource().keyIds());
        return new RecordVerifier(bridgeFiles, logSourceFiles, keys, sources);
    }

    private static Sources sources(List<Path> bridgeFiles, List<Path> logSourceFiles) throws IOException {
        return new Sources(KeyFiles.read(bridgeFiles), KeyFiles.read(existing(logSourceFiles)));
    }

    private static Keys keys(Sources sources) throws IOException {
        return new Keys(VerificationKeys.read(sources.bridge()), VerificationKeys.read(sources.logSource()));
    }

    private static List<Path> existing(List<Path> paths) {
        return paths.stream().filter(Files::exists).toList();
    }

    /**
     * Reads the key files again and builds keys from them if they changed; a change of keys is logged, an unreadable
     * file or no bridge key at all keeps the keys in force.
     */
    public synchronized void reload() {
        Sources sources;
        Keys read;
        try {
            sources = sources(bridgeFiles, logSourceFiles);
            if (sources.sameAs(keysFrom)) {
                return;
            }
            keyBuilds++;
            read = keys(sources);
        } catch (IOException | RuntimeException e) {
            LOG.warn("verification keys unreadable, keeping the previous ones reason={}", e.getMessage());
            return;
        }
        if (read.bridge().isEmpty()) {
            LOG.warn("no verification key left in {}, keeping the previous ones", bridgeFiles);
            return;
        }
        keysFrom = sources;
        if (!read.equals(keys)) {
            keys = read;
            LOG.info("verification keys reloaded bridge={} logSource={}", read.bridge().keyIds(), read.logSource().keyIds());
        }
    }

    /** How many reloads found the files changed and built keys from them. */
    synchronized int keyBuilds() {
        return keyBuilds;
    }

    /**
     * Who signed the record.
     *
     * @throws Untrusted {@code Unsigned}, {@code UnknownKey} or {@code BadSignature}
     */
    Signer signer(ConsumerRecord<byte[], byte[]> record) throws Untrusted {
        Keys current = keys;
        VerificationKeys.Check bridge = current.bridge().check(record.key(), record.value(), record.headers());
        if (bridge == VerificationKeys.Check.VERIFIED) {
            return Signer.BRIDGE;
        }
        VerificationKeys.Check logSource = current.logSource().check(record.key(), record.value(), record.headers());
        if (bridge == VerificationKeys.Check.UNKNOWN_KEY && logSource == VerificationKeys.Check.UNKNOWN_KEY) {
            reload();
            current = keys;
            bridge = current.bridge().check(record.key(), record.value(), record.headers());
            logSource = current.logSource().check(record.key(), record.value(), record.headers());
        }
        if (bridge == VerificationKeys.Check.VERIFIED) {
            return Signer.BRIDGE;
        }
        if (logSource == VerificationKeys.Check.VERIFIED) {
            return Signer.LOG_SOURCE;
        }
        if (bridge == VerificationKeys.Check.UNSIGNED) {
            throw new Untrusted(Reason.Unsigned, "the record carries no signature; only the source bridge and this node's log source "
                    + "write kdiag.abnormals, and they sign every record");
        }
        if (bridge == VerificationKeys.Check.UNKNOWN_KEY && logSource == VerificationKeys.Check.UNKNOWN_KEY) {
            String logSourceKeys = current.logSource().isEmpty() ? "" : " (log source: " + current.logSource().keyIds() + ")";
            throw new Untrusted(Reason.UnknownKey, "signed with key " + keyId(record) + ", which is none of the trusted keys "
                    + current.bridge().keyIds() + logSourceKeys);
        }
        throw new Untrusted(Reason.BadSignature, "the signature of key " + keyId(record) + " does not match the record's key "
                + "(its node) and value: forged, altered, or copied from another node's record");
    }

    /**
     * Whether what a verified record asks for fits its signer and this node.
     *
     * @throws Untrusted {@code OriginNotAllowed} for a log source's record of another origin, {@code NodeMismatch} for a
     *         request of another node
     */
    static void checkRequest(Signer signer, AbnormalRequest request, String nodeName) throws Untrusted {
        if (signer == Signer.LOG_SOURCE && request.getOrigin() != Origin.Log) {
            throw new Untrusted(Reason.OriginNotAllowed, "a log source's key vouches for origin Log only, not " + request.getOrigin());
        }
        if (!nodeName.equals(request.getNodeName())) {
            throw new Untrusted(Reason.NodeMismatch, "the request is for node " + request.getNodeName() + ", this agent serves " + nodeName);
        }
    }

    /** The key id the record names, as far as it can be a key id: it is the sender's text, bound for logs and headers. */
    static String keyId(ConsumerRecord<byte[], byte[]> record) {
        Header header = record.headers().lastHeader(SignatureHeaders.KEY_ID);
        if (header == null || header.value() == null) {
            return "(none)";
        }
        String text = new String(header.value(), StandardCharsets.UTF_8).replaceAll("[^0-9A-Za-z._-]", "?");
        return text.length() <= MAX_KEY_ID_CHARS ? text : text.substring(0, MAX_KEY_ID_CHARS) + "...";
    }
}
