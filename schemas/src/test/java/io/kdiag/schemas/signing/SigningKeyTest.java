package io.kdiag.schemas.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import io.kdiag.schemas.signing.VerificationKeys.Check;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SigningKeyTest {
    /** Written by {@code openssl genpkey -algorithm ed25519} and {@code openssl pkey -pubout}. */
    static final String OPENSSL_PRIVATE = """
            -----BEGIN PRIVATE KEY-----
            MC4CAQAwBQYDK2VwBCIEILZjGoARuHVYUSXQH8c0gu1EP96Ql0sequ75fzjLgV8Q
            -----END PRIVATE KEY-----
            """;
    private static final String OPENSSL_PUBLIC = """
            -----BEGIN PUBLIC KEY-----
            MCowBQYDK2VwAyEA2K20QRmMrJSiBGjexhfba+9wjwTB8YO2N1mh560fDB0=
            -----END PUBLIC KEY-----
            """;
    static final byte[] NODE_A = utf8("node-a");
    static final byte[] VALUE = utf8("an abnormal request");

    @TempDir
    Path dir;

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static Headers signed(SigningKey key, byte[] recordKey, byte[] value) {
        Headers headers = new RecordHeaders();
        key.sign(recordKey, value, headers);
        return headers;
    }

    @Test
    void shouldVerifyARecordSignedByAKeyItTrusts() {
        SigningKey key = SigningKey.generate();
        VerificationKeys trusted = VerificationKeys.of(List.of(key.publicKey()));

        assertThat(trusted.check(NODE_A, VALUE, signed(key, NODE_A, VALUE))).isEqualTo(Check.VERIFIED);
        assertThat(trusted.keyIds()).containsExactly(key.keyId());
    }

    @Test
    void shouldRefuseAnAlteredValueOrTheSignatureOfAnotherNodesRecord() {
        SigningKey key = SigningKey.generate();
        VerificationKeys trusted = VerificationKeys.of(List.of(key.publicKey()));
        Headers headers = signed(key, NODE_A, VALUE);

        assertThat(trusted.check(NODE_A, utf8("an abnormal request!"), headers)).isEqualTo(Check.BAD_SIGNATURE);
        // node A's record, value and signature as they were, written under node B's key
        assertThat(trusted.check(utf8("node-b"), VALUE, headers)).isEqualTo(Check.BAD_SIGNATURE);
        assertThat(trusted.check(null, VALUE, headers)).isEqualTo(Check.BAD_SIGNATURE);
        // a null value is not an empty one
        assertThat(trusted.check(NODE_A, new byte[0], signed(key, NODE_A, null))).isEqualTo(Check.BAD_SIGNATURE);
        assertThat(trusted.check(NODE_A, null, signed(key, NODE_A, null))).isEqualTo(Check.VERIFIED);
    }

    @Test
    void shouldVerifyASignatureOnlyForTheTopicItWasMadeFor() {
        SigningKey key = SigningKey.generate();
        VerificationKeys trusted = VerificationKeys.of(List.of(key.publicKey()));
        Headers decision = new RecordHeaders();
        key.sign(SignatureDomain.APPROVALS, NODE_A, VALUE, decision);

        assertThat(trusted.check(SignatureDomain.APPROVALS, NODE_A, VALUE, decision)).isEqualTo(Check.VERIFIED);
        // the same key and bytes, moved to the abnormals topic
        assertThat(trusted.check(NODE_A, VALUE, decision)).isEqualTo(Check.BAD_SIGNATURE);
        assertThat(trusted.check(SignatureDomain.APPROVALS, NODE_A, VALUE, signed(key, NODE_A, VALUE))).isEqualTo(Check.BAD_SIGNATURE);
    }

    @Test
    void shouldRefuseUnsignedRecordsUnknownKeysAndMalformedSignatures() {
        SigningKey key = SigningKey.generate();
        SigningKey stranger = SigningKey.generate();
        VerificationKeys trusted = VerificationKeys.of(List.of(key.publicKey()));

        assertThat(trusted.check(NODE_A, VALUE, new RecordHeaders())).isEqualTo(Check.UNSIGNED);
        Headers onlyKeyId = new RecordHeaders().add(SignatureHeaders.KEY_ID, utf8(key.keyId()));
        assertThat(trusted.check(NODE_A, VALUE, onlyKeyId)).isEqualTo(Check.UNSIGNED);
        assertThat(trusted.check(NODE_A, VALUE, signed(stranger, NODE_A, VALUE))).isEqualTo(Check.UNKNOWN_KEY);
        assertThat(VerificationKeys.NONE.check(NODE_A, VALUE, signed(key, NODE_A, VALUE))).isEqualTo(Check.UNKNOWN_KEY);

        Headers shortSignature = new RecordHeaders().add(SignatureHeaders.KEY_ID, utf8(key.keyId()))
                .add(SignatureHeaders.SIGNATURE, new byte[12]);
        assertThat(trusted.check(NODE_A, VALUE, shortSignature)).isEqualTo(Check.BAD_SIGNATURE);
        // a stranger's signature passed off under a trusted key's id
        Headers relabelled = new RecordHeaders().add(SignatureHeaders.KEY_ID, utf8(key.keyId()))
                .add(SignatureHeaders.SIGNATURE, signed(stranger, NODE_A, VALUE).lastHeader(SignatureHeaders.SIGNATURE).value());
        assertThat(trusted.check(NODE_A, VALUE, relabelled)).isEqualTo(Check.BAD_SIGNATURE);
    }

    @Test
    void shouldReadKeysAsOpensslWritesThemAndDeriveTheSameKeyId() throws IOException {
        Path privateFile = Files.writeString(dir.resolve("signing-key.pem"), OPENSSL_PRIVATE);
        Path publicFile = Files.writeString(dir.resolve("bridge.pub"), OPENSSL_PUBLIC);

        SigningKey key = SigningKey.read(privateFile);
        VerificationKeys trusted = VerificationKeys.read(List.of(publicFile));

        assertThat(trusted.keyIds()).containsExactly(key.keyId());
        assertThat(key.publicKeyPem()).isEqualTo(OPENSSL_PUBLIC);
        assertThat(trusted.check(NODE_A, VALUE, signed(key, NODE_A, VALUE))).isEqualTo(Check.VERIFIED);
    }

    @Test
    void shouldCreateAKeyReadableByItsOwnerOnlyAndReadItAgainLater() throws IOException {
        Path privateFile = dir.resolve("keys/signing-key.pem");
        Path publicFile = dir.resolve("keys/signing-key.pub");

        SigningKey created = SigningKey.readOrCreate(privateFile, publicFile);
        Files.delete(publicFile);
        SigningKey again = SigningKey.readOrCreate(privateFile, publicFile);

        assertThat(again.keyId()).isEqualTo(created.keyId());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(privateFile))).isEqualTo("rw-------");
        assertThat(VerificationKeys.read(List.of(publicFile)).keyIds()).containsExactly(created.keyId());
        assertThat(Files.list(privateFile.getParent())).hasSize(2);
    }

    @Test
    void shouldReadEveryKeyOfAMountedSecretForRotation() throws IOException {
        SigningKey old = SigningKey.generate();
        SigningKey current = SigningKey.generate();
        SigningKey next = SigningKey.generate();
        // as the kubelet mounts a Secret: the data in a timestamped folder, ..data pointing at it, a link per key
        Path secret = Files.createDirectories(dir.resolve("verification-keys"));
        Path version = Files.createDirectories(secret.resolve("..2025_01_01_00_00_00.1"));
        Files.writeString(version.resolve("2024.pem"), old.publicKeyPem());
        Files.writeString(version.resolve("2025.pem"), current.publicKeyPem() + next.publicKeyPem());
        Files.createSymbolicLink(secret.resolve("..data"), version.getFileName());
        Files.createSymbolicLink(secret.resolve("2024.pem"), Path.of("..data/2024.pem"));
        Files.createSymbolicLink(secret.resolve("2025.pem"), Path.of("..data/2025.pem"));

        VerificationKeys trusted = VerificationKeys.read(List.of(secret));

        assertThat(trusted.keyIds()).containsExactlyInAnyOrder(old.keyId(), current.keyId(), next.keyId());
        for (SigningKey key : List.of(old, current, next)) {
            assertThat(trusted.check(NODE_A, VALUE, signed(key, NODE_A, VALUE))).isEqualTo(Check.VERIFIED);
        }
    }

    @Test
    void shouldNameTheFileThatHoldsNoUsableKey() throws IOException {
        Path privateAsPublic = Files.writeString(dir.resolve("wrong.pem"), OPENSSL_PRIVATE);
        Path text = Files.writeString(dir.resolve("notes.txt"), "not a key");
        Path rsa = Files.writeString(dir.resolve("rsa.pub"), """
                -----BEGIN PUBLIC KEY-----
                MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf
                9Cnzj4p4WGeKLs1Pt8QuKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==
                -----END PUBLIC KEY-----
                """);

        assertThatThrownBy(() -> VerificationKeys.read(List.of(privateAsPublic))).isInstanceOf(IOException.class)
                .hasMessageContaining("wrong.pem").hasMessageContaining("PRIVATE KEY where a PUBLIC KEY was expected");
        assertThatThrownBy(() -> VerificationKeys.read(List.of(text))).hasMessageContaining("notes.txt holds no public key");
        assertThatThrownBy(() -> VerificationKeys.read(List.of(rsa))).hasMessageContaining("rsa.pub holds a public key that is not Ed25519");
        assertThatThrownBy(() -> VerificationKeys.read(List.of(dir.resolve("missing")))).hasMessageContaining("no such file");
        assertThatThrownBy(() -> SigningKey.read(text)).hasMessageContaining("notes.txt holds 0 private keys");
    }
}
