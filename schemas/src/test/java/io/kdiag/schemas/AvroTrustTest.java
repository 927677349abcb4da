package io.kdiag.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import org.junit.jupiter.api.Test;

/**
 * Copying a generated record is the first Avro use of a fresh JVM (no serde loaded, no system property), as when the
 * bridge compiles a rule before it reads its first record: it works once {@link AvroTrust#install()} ran, and only then.
 */
class AvroTrustTest {
    @Test
    void shouldLetAFreshJvmCopyAGeneratedRecordOnlyOnceTrustIsInstalled() throws Exception {
        Child trusted = run("install");
        assertThat(trusted.exitCode).as(trusted.output).isZero();
        assertThat(trusted.output).contains("copied origin=Log");

        Child untrusted = run("skip");
        assertThat(untrusted.exitCode).as("without install() Avro refuses the project's own enum").isNotZero();
        assertThat(untrusted.output).contains("Forbidden " + Origin.class.getName());
    }

    /** Runs {@link CopyFirst} in a JVM of its own, on this test's class path and without the tests' system properties. */
    private static Child run(String mode) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), CopyFirst.class.getName(), mode)
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Child(process.exitValue(), output);
    }

    private record Child(int exitCode, String output) {
    }

    /** A process whose first Avro use copies a record; with {@code install} it installs the trust first. */
    static final class CopyFirst {
        private CopyFirst() {
        }

        public static void main(String[] args) {
            if (args[0].equals("install")) {
                AvroTrust.install();
            }
            AbnormalRequest request = new AbnormalRequest("uid", "default", "name", "node-1", Origin.Log, Instant.EPOCH, "{}", Map.of());
            System.out.println("copied origin=" + AbnormalRequest.newBuilder(request).build().getOrigin());
        }
    }
}
