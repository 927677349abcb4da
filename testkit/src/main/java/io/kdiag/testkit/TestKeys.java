package io.kdiag.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import io.kdiag.schemas.Topic;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.signing.SigningKey;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The bridge's signing key of a test JVM, in files as the components read them: {@link #signingKeyFile()} for the
 * bridge's {@code kdiag.signing-key}, {@link #verificationKeyFile()} for the agent's {@code kdiag.verification-keys}.
 * Tests that stand in for the bridge sign their records of {@code kdiag.abnormals} with {@link #signed}.
 */
public final class TestKeys {
    private TestKeys() {
    }

    /** Generated once per JVM, in a folder deleted when it exits. */
    private static final class Holder {
        static final Path DIR;
        static final SigningKey KEY;

        static {
            try {
                DIR = Files.createTempDirectory("kdiag-test-keys-");
                KEY = SigningKey.readOrCreate(DIR.resolve("signing-key.pem"), DIR.resolve("signing-key.pub"));
                DIR.toFile().deleteOnExit();
                DIR.resolve("signing-key.pem").toFile().deleteOnExit();
                DIR.resolve("signing-key.pub").toFile().deleteOnExit();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** The private key, as the bridge's {@code kdiag.signing-key}. */
    public static Path signingKeyFile() {
        return Holder.DIR.resolve("signing-key.pem");
    }

    /** The public key, as the agent's {@code kdiag.verification-keys}. */
    public static Path verificationKeyFile() {
        return Holder.DIR.resolve("signing-key.pub");
    }

    /** The key itself. */
    public static SigningKey signingKey() {
        return Holder.KEY;
    }

    /** A record of {@code topic} as the bridge writes it: keyed by the request's node and signed. */
    public static ProducerRecord<byte[], byte[]> signed(Topic<String, AbnormalRequest> topic, AbnormalRequest request) {
        return signed(topic, request.getNodeName(), request);
    }

    /** A record of {@code topic} under {@code key}, signed as the bridge signs: for tests that put a request under another node's key. */
    public static ProducerRecord<byte[], byte[]> signed(Topic<String, AbnormalRequest> topic, String key, AbnormalRequest request) {
        byte[] keyBytes = topic.keySerde().serializer().serialize(topic.name(), key);
        byte[] value = topic.valueSerde().serializer().serialize(topic.name(), request);
        RecordHeaders headers = new RecordHeaders();
        signingKey().sign(keyBytes, value, headers);
        return new ProducerRecord<>(topic.name(), null, keyBytes, value, headers);
    }
}
