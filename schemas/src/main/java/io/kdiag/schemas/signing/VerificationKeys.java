package io.kdiag.schemas.signing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * The public keys a verifier trusts, by key id. Several at once, so a signing key can be replaced without a moment
 * where records signed with the old or the new one are refused. Immutable and thread-safe.
 */
public final class VerificationKeys {
    /** No key: verifies nothing. */
    public static final VerificationKeys NONE = new VerificationKeys(Map.of());

    /** What checking a record's signature found. */
    public enum Check {
        /** Signed by one of these keys, over exactly this key and value. */
        VERIFIED,
        /** No key id or no signature header. */
        UNSIGNED,
        /** Signed by a key that is not one of these. */
        UNKNOWN_KEY,
        /** The signature does not match the key, the value or the key id: forged, altered, or moved to another node. */
        BAD_SIGNATURE
    }

    /** A trusted key (which alone defines equality), its id as a signature covers it, and its verifier, decoded once. */
    private static final class Trusted {
        final PublicKey key;
        final byte[] keyIdBytes;
        final Ed25519.Verifier verifier;

        Trusted(String keyId, PublicKey key) {
            this.key = key;
            this.keyIdBytes = keyId.getBytes(StandardCharsets.UTF_8);
            this.verifier = Ed25519.verifier(key);
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Trusted trusted && trusted.key.equals(key);
        }

        @Override
        public int hashCode() {
            return key.hashCode();
        }
    }

    private final Map<String, Trusted> byId;

    private VerificationKeys(Map<String, Trusted> byId) {
        this.byId = Map.copyOf(byId);
    }

    /**
     * These keys.
     *
     * @throws IllegalArgumentException if one is not an Ed25519 public key, or not a valid one
     */
    public static VerificationKeys of(Collection<PublicKey> keys) {
        Map<String, Trusted> byId = new LinkedHashMap<>();
        for (PublicKey key : keys) {
            String keyId = Ed25519.keyId(key);
            byId.put(keyId, new Trusted(keyId, key));
        }
        return new VerificationKeys(byId);
    }

    /**
     * Every public key of these PEM files ({@code -----BEGIN PUBLIC KEY-----}, several per file allowed) and of the files
     * directly in these directories. Names starting with a dot are skipped: a mounted Secret keeps its versions in
     * {@code ..data} and timestamped {@code ..} folders beside the links named after its keys.
     *
     * @throws IOException if a path does not exist, or a file cannot be read or holds something other than Ed25519
     *         public keys; the message names the file
     */
    public static VerificationKeys read(List<Path> paths) throws IOException {
        return read(KeyFiles.read(paths));
    }

    /**
     * Every public key of key files already read.
     *
     * @throws IOException if a file holds something other than Ed25519 public keys; the message names the file
     */
    public static VerificationKeys read(KeyFiles files) throws IOException {
        List<PublicKey> keys = new ArrayList<>();
        for (KeyFiles.File file : files.files()) {
            keys.addAll(Ed25519.readPublic(file.path(), file.content()));
        }
        return of(keys);
    }

    /**
     * The public keys of one key file already read.
     *
     * @throws IOException if it holds something other than Ed25519 public keys; the message names the file
     */
    public static VerificationKeys read(KeyFiles.File file) throws IOException {
        return of(Ed25519.readPublic(file.path(), file.content()));
    }

    /**
     * The key files these paths name, as {@link #read} reads them: each file, and the files directly in each directory
     * in name order, without names starting with a dot.
     *
     * @throws IOException if a path does not exist or a directory cannot be listed
     */
    public static List<Path> files(List<Path> paths) throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path path : paths) {
            if (Files.isDirectory(path)) {
                try (Stream<Path> list = Files.list(path)) {
                    list.filter(f -> !f.getFileName().toString().startsWith(".") && Files.isRegularFile(f)).sorted().forEach(files::add);
                }
            } else if (Files.exists(path)) {
                files.add(path);
            } else {
                throw new IOException("no such file or directory: " + path);
            }
        }
        return files;
    }

    /** These keys and {@code others}. */
    public VerificationKeys and(VerificationKeys others) {
        Map<String, Trusted> both = new LinkedHashMap<>(byId);
        both.putAll(others.byId);
        return new VerificationKeys(both);
    }

    /** The ids of these keys. */
    public Set<String> keyIds() {
        return byId.keySet();
    }

    /** Whether there is no key. */
    public boolean isEmpty() {
        return byId.isEmpty();
    }

    /** Whether a record of {@code kdiag.abnormals} with this key, value and headers was signed by one of these keys. */
    public Check check(byte[] key, byte[] value, Headers headers) {
        return check(SignatureDomain.ABNORMALS, key, value, headers);
    }

    /** Whether a record signed for {@code domain}, with this key, value and headers, was signed by one of these keys. */
    public Check check(SignatureDomain domain, byte[] key, byte[] value, Headers headers) {
        Header keyIdHeader = headers.lastHeader(SignatureHeaders.KEY_ID);
        Header signatureHeader = headers.lastHeader(SignatureHeaders.SIGNATURE);
        if (keyIdHeader == null || keyIdHeader.value() == null || signatureHeader == null || signatureHeader.value() == null) {
            return Check.UNSIGNED;
        }
        Trusted trusted = byId.get(new String(keyIdHeader.value(), StandardCharsets.UTF_8));
        if (trusted == null) {
            return Check.UNKNOWN_KEY;
        }
        // the covered id is the trusted key's own: the header's bytes decoded to it, so they are these bytes
        byte[] covered = Ed25519.covered(domain, trusted.keyIdBytes, key, value);
        return trusted.verifier.verify(covered, signatureHeader.value()) ? Check.VERIFIED : Check.BAD_SIGNATURE;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof VerificationKeys keys && keys.byId.equals(byId);
    }

    @Override
    public int hashCode() {
        return byId.hashCode();
    }

    @Override
    public String toString() {
        return "Ed25519 keys " + byId.keySet();
    }
}
