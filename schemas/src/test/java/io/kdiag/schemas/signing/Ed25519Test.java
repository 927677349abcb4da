package io.kdiag.schemas.signing;

import static io.kdiag.schemas.signing.SigningKeyTest.NODE_A;
import static io.kdiag.schemas.signing.SigningKeyTest.VALUE;
import static io.kdiag.schemas.signing.SigningKeyTest.signed;
import static io.kdiag.schemas.signing.SigningKeyTest.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import io.kdiag.schemas.signing.VerificationKeys.Check;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The signatures Bouncy Castle makes are the JDK's, byte for byte, over the same covered bytes as before it: records
 * signed by an earlier version, and every reproduction in the docs, still verify.
 */
class Ed25519Test {
    @TempDir
    Path dir;

    /** The JDK's EdDSA fed as the signing code fed it before Bouncy Castle: the reference both must agree with. */
    private static Signature jdk(String domainName, String keyId, byte[] key, byte[] value, Signature signature)
            throws GeneralSecurityException {
        signature.update((domainName + "\0").getBytes(StandardCharsets.US_ASCII));
        for (byte[] field : new byte[][] {keyId.getBytes(StandardCharsets.UTF_8), key, value}) {
            signature.update(ByteBuffer.allocate(4).putInt(field == null ? -1 : field.length).array());
            if (field != null) {
                signature.update(field);
            }
        }
        return signature;
    }

    private static byte[] jdkSign(PrivateKey privateKey, String domainName, String keyId, byte[] key, byte[] value)
            throws GeneralSecurityException {
        Signature signer = Signature.getInstance("Ed25519");
        signer.initSign(privateKey);
        return jdk(domainName, keyId, key, value, signer).sign();
    }

    private static boolean jdkVerify(SigningKey signingKey, String domainName, byte[] key, byte[] value, byte[] signature)
            throws GeneralSecurityException {
        Signature verifier = Signature.getInstance("Ed25519");
        verifier.initVerify(signingKey.publicKey());
        try {
            return jdk(domainName, signingKey.keyId(), key, value, verifier).verify(signature);
        } catch (SignatureException e) {
            // "Invalid point", "s is too large": a refusal, as for a signature that parses but does not match
            return false;
        }
    }

    private static byte[] signature(Headers headers) {
        return headers.lastHeader(SignatureHeaders.SIGNATURE).value();
    }

    private static Headers headers(String keyId, byte[] signature) {
        return new RecordHeaders().add(SignatureHeaders.KEY_ID, utf8(keyId)).add(SignatureHeaders.SIGNATURE, signature);
    }

    private SigningKey readOrCreate(String name) throws IOException {
        return SigningKey.readOrCreate(dir.resolve(name + ".pem"), dir.resolve(name + ".pub"));
    }

    private static PrivateKey jdkPrivateKey(Path file) throws Exception {
        String base64 = Files.readString(file).replaceAll("-----[A-Z ]+-----|\\s", "");
        return KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
    }

    @Test
    void shouldSignTheRfc8032TestVectorAsTheRfcDoes() {
        // RFC 8032, section 7.1, TEST 3: a 2-byte message
        HexFormat hex = HexFormat.of();
        byte[] seed = hex.parseHex("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7");
        byte[] publicKey = Ed25519.publicKeyOf(seed);

        assertThat(hex.formatHex(publicKey)).isEqualTo("fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025");
        assertThat(hex.formatHex(Ed25519.sign(seed, publicKey, hex.parseHex("af82")))).isEqualTo(
                "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a");
    }

    @Test
    void shouldMakeTheSignaturesOpensslMakesOverTheSameCoveredBytes() throws IOException {
        // SigningKeyTest's openssl key, whose id is 4503522d0d88414a; openssl pkeyutl -sign -rawin over "kdiag.abnormals.v1\0", then each of key id, record key and value after its length
        Path file = Files.writeString(dir.resolve("signing-key.pem"), SigningKeyTest.OPENSSL_PRIVATE);
        SigningKey key = SigningKey.read(file);
        Headers abnormal = new RecordHeaders();
        key.sign(NODE_A, VALUE, abnormal);
        // the same for "kdiag.approvals.v1\0", a null record key (length -1) and an empty value (length 0)
        Headers decision = new RecordHeaders();
        key.sign(SignatureDomain.APPROVALS, null, new byte[0], decision);

        assertThat(key.keyId()).isEqualTo("4503522d0d88414a");
        assertThat(Base64.getEncoder().encodeToString(signature(abnormal)))
                .isEqualTo("qcaKRSiAO1J+6icC3Ixf01tmmLGaDJIBnah9tspkZ83R1C0wRx2s3wABIsAuhw1879YvvBdLq6AB65Id0JTGDA==");
        assertThat(Base64.getEncoder().encodeToString(signature(decision)))
                .isEqualTo("6xaseRPgUKV7SxyAxy0+B7UPbi7I9AKGQhpn1HmCgrHMG0FdBr2EhcL2GHIsioRdFpnJK2XRuSfOX0Z2CyKgBw==");
    }

    @Test
    void shouldSignByteForByteAsTheJdkAndVerifyEitherWay() throws Exception {
        Random random = new Random(16);
        byte[] request = new byte[430];
        random.nextBytes(request);
        List<byte[][]> records = new ArrayList<>();
        records.add(new byte[][] {NODE_A, VALUE});
        records.add(new byte[][] {utf8("node-17"), request});
        records.add(new byte[][] {null, VALUE});
        records.add(new byte[][] {NODE_A, null});
        records.add(new byte[][] {new byte[0], new byte[0]});

        for (int k = 0; k < 4; k++) {
            SigningKey key = readOrCreate("key-" + k);
            PrivateKey jdkKey = jdkPrivateKey(dir.resolve("key-" + k + ".pem"));
            VerificationKeys trusted = VerificationKeys.of(List.of(key.publicKey()));
            for (SignatureDomain domain : SignatureDomain.values()) {
                String domainName = domain == SignatureDomain.ABNORMALS ? "kdiag.abnormals.v1" : "kdiag.approvals.v1";
                for (byte[][] record : records) {
                    Headers ours = new RecordHeaders();
                    key.sign(domain, record[0], record[1], ours);
                    byte[] theirs = jdkSign(jdkKey, domainName, key.keyId(), record[0], record[1]);

                    assertThat(signature(ours)).isEqualTo(theirs);
                    assertThat(jdkVerify(key, domainName, record[0], record[1], signature(ours))).isTrue();
                    assertThat(trusted.check(domain, record[0], record[1], headers(key.keyId(), theirs))).isEqualTo(Check.VERIFIED);

                    for (int bit : new int[] {0, 255, 256, 511}) {
                        byte[] tampered = theirs.clone();
                        tampered[bit / 8] ^= (byte) (1 << (bit % 8));
                        assertThat(trusted.check(domain, record[0], record[1], headers(key.keyId(), tampered))).isEqualTo(Check.BAD_SIGNATURE);
                        assertThat(jdkVerify(key, domainName, record[0], record[1], tampered)).isFalse();
                    }
                    byte[] alteredValue = record[1] == null || record[1].length == 0 ? utf8("x") : record[1].clone();
                    alteredValue[alteredValue.length - 1] ^= 1;
                    assertThat(trusted.check(domain, record[0], alteredValue, ours)).isEqualTo(Check.BAD_SIGNATURE);
                    assertThat(jdkVerify(key, domainName, record[0], alteredValue, signature(ours))).isFalse();
                }
            }
        }
    }

    @Test
    void shouldSignFromManyThreadsAtOnceWithOneKey() throws Exception {
        SigningKey key = SigningKey.generate();
        VerificationKeys trusted = VerificationKeys.of(List.of(key.publicKey()));
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < 4; t++) {
            byte[] value = utf8("request of thread " + t);
            byte[] expected = signature(signed(key, NODE_A, value));
            threads.add(new Thread(() -> {
                try {
                    for (int i = 0; i < 200; i++) {
                        Headers headers = signed(key, NODE_A, value);
                        assertThat(signature(headers)).isEqualTo(expected);
                        assertThat(trusted.check(NODE_A, value, headers)).isEqualTo(Check.VERIFIED);
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void shouldRefuseAPublicKeyThatIsNoPointOfTheCurveOrOfSmallOrder() throws IOException {
        // y = 2 has no x on the curve; y = 1 is the neutral point, of order 1: it would verify forged signatures
        byte[] offCurve = new byte[32];
        offCurve[0] = 2;
        byte[] neutral = new byte[32];
        neutral[0] = 1;
        for (byte[] raw : List.of(offCurve, neutral)) {
            Path file = Files.writeString(dir.resolve("bad.pub"), Ed25519.pem("PUBLIC KEY",
                    HexFormat.of().parseHex("302a300506032b6570032100" + HexFormat.of().formatHex(raw))));

            assertThatThrownBy(() -> VerificationKeys.read(List.of(file))).isInstanceOf(IOException.class)
                    .hasMessageContaining("bad.pub holds a public key that is not Ed25519");
        }
    }
}
