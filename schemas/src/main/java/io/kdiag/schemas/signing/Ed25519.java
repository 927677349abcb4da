package io.kdiag.schemas.signing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ed25519 keys in PEM files, their ids, what exactly a signature covers, and the signing and checking themselves.
 * The JDK parses the key files; Bouncy Castle's RFC 8032 code signs and verifies from the raw 32-byte keys (several
 * times faster than JDK 17's EdDSA, and the same bytes: Ed25519 is deterministic).
 */
final class Ed25519 {
    static final String ALGORITHM = "Ed25519";
    static final int SIGNATURE_BYTES = org.bouncycastle.math.ec.rfc8032.Ed25519.SIGNATURE_SIZE;
    static final int KEY_BYTES = org.bouncycastle.math.ec.rfc8032.Ed25519.PUBLIC_KEY_SIZE;
    /** The DER of an Ed25519 SubjectPublicKeyInfo (RFC 8410) up to its 32 key bytes. */
    private static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");
    /** The DER of an Ed25519 PKCS#8 private key (RFC 8410, version 1), as openssl and the JDK write it, up to its 32-byte seed. */
    private static final byte[] PKCS8_PREFIX = HexFormat.of().parseHex("302e020100300506032b657004220420");
    private static final String PRIVATE_LABEL = "PRIVATE KEY";
    private static final String PUBLIC_LABEL = "PUBLIC KEY";
    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]*)-----END \\1-----");
    private static final SecureRandom RANDOM = new SecureRandom();

    private Ed25519() {
    }

    /** A public key that checks signatures: its point decoded and validated once, read (never written) by every check. */
    static final class Verifier {
        private final org.bouncycastle.math.ec.rfc8032.Ed25519.PublicPoint point;

        private Verifier(org.bouncycastle.math.ec.rfc8032.Ed25519.PublicPoint point) {
            this.point = point;
        }

        /** Whether {@code signature} (64 bytes) signs exactly {@code covered}. */
        boolean verify(byte[] covered, byte[] signature) {
            return signature.length == SIGNATURE_BYTES
                    && org.bouncycastle.math.ec.rfc8032.Ed25519.verify(signature, 0, point, covered, 0, covered.length);
        }
    }

    /**
     * The id of a public key: the first 8 bytes of the SHA-256 of its X.509 encoding, in hex. Derived from the key, so
     * the signer and every verifier agree on it without naming anything.
     */
    static String keyId(PublicKey key) {
        try {
            return HexFormat.of().formatHex(Arrays.copyOf(MessageDigest.getInstance("SHA-256").digest(key.getEncoded()), 8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /**
     * What a signature covers, in one array: the domain, then the key id, the record key and the value, each after its
     * length (4 bytes, big-endian; -1 for null, so a null key or value differs from an empty one).
     */
    static byte[] covered(SignatureDomain domain, byte[] keyId, byte[] key, byte[] value) {
        byte[] prefix = domain.prefix();
        ByteBuffer covered = ByteBuffer.allocate(prefix.length + 3 * Integer.BYTES + keyId.length + length(key) + length(value));
        covered.put(prefix);
        field(covered, keyId);
        field(covered, key);
        field(covered, value);
        return covered.array();
    }

    private static int length(byte[] bytes) {
        return bytes == null ? 0 : bytes.length;
    }

    private static void field(ByteBuffer covered, byte[] bytes) {
        covered.putInt(bytes == null ? -1 : bytes.length);
        if (bytes != null) {
            covered.put(bytes);
        }
    }

    /** The signature of {@code covered} by the private key {@code seed}, whose public key is {@code publicKey} (raw, 32 bytes). */
    static byte[] sign(byte[] seed, byte[] publicKey, byte[] covered) {
        byte[] signature = new byte[SIGNATURE_BYTES];
        org.bouncycastle.math.ec.rfc8032.Ed25519.sign(seed, 0, publicKey, 0, covered, 0, covered.length, signature, 0);
        return signature;
    }

    /** A new private key: its 32-byte seed. */
    static byte[] generateSeed() {
        byte[] seed = new byte[KEY_BYTES];
        org.bouncycastle.math.ec.rfc8032.Ed25519.generatePrivateKey(RANDOM, seed);
        return seed;
    }

    /** The raw public key (32 bytes) of a private key's seed. */
    static byte[] publicKeyOf(byte[] seed) {
        byte[] publicKey = new byte[KEY_BYTES];
        org.bouncycastle.math.ec.rfc8032.Ed25519.generatePublicKey(seed, 0, publicKey, 0);
        return publicKey;
    }

    /** The 32-byte seed of a private key. */
    static byte[] seed(PrivateKey key) throws GeneralSecurityException {
        if (!(key instanceof EdECPrivateKey edec)) {
            throw new GeneralSecurityException("not an " + ALGORITHM + " private key");
        }
        return edec.getBytes().orElseThrow(() -> new GeneralSecurityException("the private key's bytes cannot be read"));
    }

    /** The raw 32 bytes of an Ed25519 public key: the end of its X.509 encoding, which has but one form. */
    static byte[] raw(PublicKey key) {
        byte[] encoded = key.getEncoded();
        if (encoded == null || encoded.length != X509_PREFIX.length + KEY_BYTES
                || !Arrays.equals(encoded, 0, X509_PREFIX.length, X509_PREFIX, 0, X509_PREFIX.length)) {
            throw new IllegalArgumentException("not an " + ALGORITHM + " public key: " + key.getAlgorithm());
        }
        return Arrays.copyOfRange(encoded, X509_PREFIX.length, encoded.length);
    }

    /** The public key of these 32 bytes, as the JDK represents it. */
    static PublicKey publicKey(byte[] raw) {
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(concat(X509_PREFIX, raw)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this Java platform has no " + ALGORITHM, e);
        }
    }

    /**
     * The verifier of a public key, or an exception if the key is not a point of the curve or is of small order (such
     * a key would verify forged signatures: no signer has one).
     */
    static Verifier verifier(PublicKey key) {
        var point = org.bouncycastle.math.ec.rfc8032.Ed25519.validatePublicKeyFullExport(raw(key), 0);
        if (point == null) {
            throw new IllegalArgumentException("not a valid " + ALGORITHM + " public key (" + keyId(key) + ")");
        }
        return new Verifier(point);
    }

    private static byte[] concat(byte[] first, byte[] second) {
        byte[] both = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, both, first.length, second.length);
        return both;
    }

    /** The one PKCS#8 private key of a PEM file. */
    static PrivateKey readPrivate(Path file) throws IOException {
        List<byte[]> blocks = blocks(Files.readString(file, StandardCharsets.US_ASCII), PRIVATE_LABEL, file);
        if (blocks.size() != 1) {
            throw new IOException(file + " holds " + blocks.size() + " private keys (-----BEGIN " + PRIVATE_LABEL + "-----); one is needed");
        }
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(blocks.get(0)));
        } catch (GeneralSecurityException e) {
            throw new IOException(file + " does not hold an " + ALGORITHM + " private key: " + e.getMessage(), e);
        }
    }

    /** Every X.509 public key of a PEM file, from the bytes read from it; there must be at least one. */
    static List<PublicKey> readPublic(Path file, byte[] content) throws IOException {
        // strict, as Files.readString is: a byte that is no ASCII fails rather than reading as a replacement character
        String text = StandardCharsets.US_ASCII.newDecoder().decode(ByteBuffer.wrap(content)).toString();
        List<byte[]> blocks = blocks(text, PUBLIC_LABEL, file);
        if (blocks.isEmpty()) {
            throw new IOException(file + " holds no public key (-----BEGIN " + PUBLIC_LABEL + "-----)");
        }
        List<PublicKey> keys = new ArrayList<>();
        for (byte[] block : blocks) {
            try {
                PublicKey key = KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(block));
                verifier(key); // refuses, naming the file, a point off the curve or of small order
                keys.add(key);
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                throw new IOException(file + " holds a public key that is not " + ALGORITHM + ": " + e.getMessage(), e);
            }
        }
        return keys;
    }

    private static List<byte[]> blocks(String text, String label, Path file) throws IOException {
        List<byte[]> blocks = new ArrayList<>();
        Matcher m = PEM.matcher(text);
        while (m.find()) {
            if (!m.group(1).equals(label)) {
                throw new IOException(file + " holds a " + m.group(1) + " where a " + label + " was expected");
            }
            try {
                blocks.add(Base64.getMimeDecoder().decode(m.group(2)));
            } catch (IllegalArgumentException e) {
                throw new IOException(file + " holds a " + label + " that is not base64: " + e.getMessage(), e);
            }
        }
        return blocks;
    }

    static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }

    static String privatePem(byte[] seed) {
        return pem(PRIVATE_LABEL, concat(PKCS8_PREFIX, seed));
    }

    static String publicPem(PublicKey key) {
        return pem(PUBLIC_LABEL, key.getEncoded());
    }
}
