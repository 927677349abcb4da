package io.kdiag.schemas.signing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Ed25519 keys in PEM files, their ids, and what exactly a signature covers. */
final class Ed25519 {
    static final String ALGORITHM = "Ed25519";
    static final int SIGNATURE_BYTES = 64;
    private static final String PRIVATE_LABEL = "PRIVATE KEY";
    private static final String PUBLIC_LABEL = "PUBLIC KEY";
    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]*)-----END \\1-----");

    private Ed25519() {
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

    /** Feeds what a signature covers to {@code signature}: the domain, then the key id, the record key and value, each with its length. */
    static void update(Signature signature, SignatureDomain domain, String keyId, byte[] key, byte[] value) throws GeneralSecurityException {
        signature.update(domain.prefix());
        field(signature, keyId.getBytes(StandardCharsets.UTF_8));
        field(signature, key);
        field(signature, value);
    }

    private static void field(Signature signature, byte[] bytes) throws GeneralSecurityException {
        // a null key or value (-1) differs from an empty one (0)
        signature.update(ByteBuffer.allocate(4).putInt(bytes == null ? -1 : bytes.length).array());
        if (bytes != null) {
            signature.update(bytes);
        }
    }

    static KeyPair generate() {
        try {
            return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this Java platform has no " + ALGORITHM, e);
        }
    }

    /**
     * The public key of a private one. An Ed25519 private key is a 32-byte seed from which the public key follows; the
     * platform computes it only while generating a pair, so the pair is generated from this seed.
     */
    static PublicKey publicKeyOf(PrivateKey privateKey) throws GeneralSecurityException {
        byte[] seed = ((EdECPrivateKey) privateKey).getBytes()
                .orElseThrow(() -> new GeneralSecurityException("the private key's bytes cannot be read"));
        KeyPairGenerator generator = KeyPairGenerator.getInstance(ALGORITHM);
        generator.initialize(NamedParameterSpec.ED25519, new SecureRandom() {
            @Override
            public void nextBytes(byte[] bytes) {
                System.arraycopy(seed, 0, bytes, 0, Math.min(seed.length, bytes.length));
            }
        });
        PublicKey derived = generator.generateKeyPair().getPublic();
        // a platform that generated the pair some other way would give a key that does not match: refuse it
        byte[] probe = SignatureDomain.ABNORMALS.prefix();
        Signature signer = Signature.getInstance(ALGORITHM);
        signer.initSign(privateKey);
        signer.update(probe);
        Signature verifier = Signature.getInstance(ALGORITHM);
        verifier.initVerify(derived);
        verifier.update(probe);
        if (!verifier.verify(signer.sign())) {
            throw new GeneralSecurityException("cannot derive the public key of the private key");
        }
        return derived;
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

    /** Every X.509 public key of a PEM file; there must be at least one. */
    static List<PublicKey> readPublic(Path file) throws IOException {
        List<byte[]> blocks = blocks(Files.readString(file, StandardCharsets.US_ASCII), PUBLIC_LABEL, file);
        if (blocks.isEmpty()) {
            throw new IOException(file + " holds no public key (-----BEGIN " + PUBLIC_LABEL + "-----)");
        }
        List<PublicKey> keys = new ArrayList<>();
        for (byte[] block : blocks) {
            try {
                keys.add(KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(block)));
            } catch (GeneralSecurityException e) {
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

    static String privatePem(PrivateKey key) {
        return pem(PRIVATE_LABEL, key.getEncoded());
    }

    static String publicPem(PublicKey key) {
        return pem(PUBLIC_LABEL, key.getEncoded());
    }
}
