package io.kdiag.schemas.signing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.PublicKey;

import org.apache.kafka.common.header.Headers;

/** The Ed25519 key a gate signs the records it writes to {@code kdiag.abnormals} with. Thread-safe. */
public final class SigningKey {
    /** The private key's 32 bytes; like the others, never written after construction, so shared by every thread. */
    private final byte[] seed;
    private final byte[] rawPublicKey;
    private final PublicKey publicKey;
    private final String keyId;
    private final byte[] keyIdBytes;

    private SigningKey(byte[] seed) {
        this.seed = seed;
        this.rawPublicKey = Ed25519.publicKeyOf(seed);
        this.publicKey = Ed25519.publicKey(rawPublicKey);
        this.keyId = Ed25519.keyId(publicKey);
        this.keyIdBytes = keyId.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The key of a PEM file holding one PKCS#8 Ed25519 private key ({@code openssl genpkey -algorithm ed25519}).
     *
     * @throws IOException if the file cannot be read or holds no such key, with a message naming the file
     */
    public static SigningKey read(Path privateKeyFile) throws IOException {
        try {
            return new SigningKey(Ed25519.seed(Ed25519.readPrivate(privateKeyFile)));
        } catch (GeneralSecurityException e) {
            throw new IOException(privateKeyFile + ": " + e.getMessage(), e);
        }
    }

    /**
     * The key of {@code privateKeyFile}, generated there (readable by its owner only) when the file does not exist; its
     * public key is written to {@code publicKeyFile} (replaced if it differs), for verifiers to read.
     *
     * @throws IOException if a file cannot be read or written, or the private key file holds no Ed25519 key
     */
    public static SigningKey readOrCreate(Path privateKeyFile, Path publicKeyFile) throws IOException {
        SigningKey key;
        if (Files.exists(privateKeyFile)) {
            key = read(privateKeyFile);
        } else {
            key = generate();
            writeAtomically(privateKeyFile, Ed25519.privatePem(key.seed), true);
        }
        String publicPem = Ed25519.publicPem(key.publicKey);
        if (!Files.exists(publicKeyFile) || !Files.readString(publicKeyFile, StandardCharsets.US_ASCII).equals(publicPem)) {
            writeAtomically(publicKeyFile, publicPem, false);
        }
        return key;
    }

    /** A new key that lives in memory only. */
    public static SigningKey generate() {
        return new SigningKey(Ed25519.generateSeed());
    }

    private static void writeAtomically(Path file, String text, boolean ownerOnly) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temporary = dir.resolve(file.getFileName() + ".tmp");
        Files.deleteIfExists(temporary);
        if (ownerOnly && dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(temporary, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        Files.writeString(temporary, text, StandardCharsets.US_ASCII, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The id verifiers know this key by, carried in {@link SignatureHeaders#KEY_ID}. */
    public String keyId() {
        return keyId;
    }

    /** The public key that verifies this key's signatures. */
    public PublicKey publicKey() {
        return publicKey;
    }

    /** The public key as a PEM file verifiers read ({@code -----BEGIN PUBLIC KEY-----}). */
    public String publicKeyPem() {
        return Ed25519.publicPem(publicKey);
    }

    /** Signs a record of {@code kdiag.abnormals}: {@link #sign(SignatureDomain, byte[], byte[], Headers)} for {@link SignatureDomain#ABNORMALS}. */
    public void sign(byte[] key, byte[] value, Headers headers) {
        sign(SignatureDomain.ABNORMALS, key, value, headers);
    }

    /**
     * Signs a record's key and value for a topic: adds {@link SignatureHeaders#KEY_ID} and {@link SignatureHeaders#SIGNATURE}
     * to {@code headers}.
     */
    public void sign(SignatureDomain domain, byte[] key, byte[] value, Headers headers) {
        byte[] signature = Ed25519.sign(seed, rawPublicKey, Ed25519.covered(domain, keyIdBytes, key, value));
        // a copy of the id per record: a header's bytes can be written by whoever holds the record
        headers.add(SignatureHeaders.KEY_ID, keyIdBytes.clone());
        headers.add(SignatureHeaders.SIGNATURE, signature);
    }

    @Override
    public String toString() {
        return "Ed25519 key " + keyId;
    }
}
