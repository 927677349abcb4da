package io.kdiag.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import io.kdiag.schemas.signing.SigningKey;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * What an installation's agents need to run the bench's abnormals, in a folder: the bridge's signing key and its public
 * key, and an agent policy granting the no-op workers (without a policy file no recoverer runs). Records the bench
 * writes to {@code kdiag.abnormals} itself are signed as the bridge signs them.
 */
final class BenchTrust {
    private static final String POLICY = """
            grants:
            - processors: ["kube-diagnoser/*"]
            """;

    private final SigningKey key;
    private final Path privateKey;
    private final Path publicKey;
    private final Path policy;

    private BenchTrust(SigningKey key, Path privateKey, Path publicKey, Path policy) {
        this.key = key;
        this.privateKey = privateKey;
        this.publicKey = publicKey;
        this.policy = policy;
    }

    /** The key pair and policy in {@code dir}, made if missing. */
    static BenchTrust in(Path dir) {
        try {
            Path privateKey = dir.resolve("signing-key.pem");
            Path publicKey = dir.resolve("signing-key.pub");
            SigningKey key = SigningKey.readOrCreate(privateKey, publicKey);
            return new BenchTrust(key, privateKey, publicKey, Files.writeString(dir.resolve("agent-policy.yaml"), POLICY));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The bridge's settings: {@code KDIAG_SIGNING_KEY}. */
    Map<String, String> bridgeEnv() {
        return Map.of("KDIAG_SIGNING_KEY", privateKey.toString());
    }

    /** An agent's settings: {@code KDIAG_VERIFICATION_KEYS}, {@code KDIAG_POLICY_FILE}. */
    Map<String, String> agentEnv() {
        return Map.of("KDIAG_VERIFICATION_KEYS", publicKey.toString(), "KDIAG_POLICY_FILE", policy.toString());
    }

    /** A record of {@code kdiag.abnormals} for {@code node}, signed as the bridge signs. */
    ProducerRecord<byte[], byte[]> signed(String topic, String node, byte[] value) {
        byte[] key = node.getBytes(StandardCharsets.UTF_8);
        RecordHeaders headers = new RecordHeaders();
        this.key.sign(key, value, headers);
        return new ProducerRecord<>(topic, null, key, value, headers);
    }
}
