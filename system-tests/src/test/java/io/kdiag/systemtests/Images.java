package io.kdiag.systemtests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import io.kdiag.testkit.TestKafka;

/**
 * The images of the tier: the project's (built by {@code make image}, as a user does) and the Kafka broker's (from the
 * jars the kafka-image module copied). Each is built once per test JVM; the engine's layer cache keeps a rebuild of
 * unchanged inputs to seconds, and the Kafka image is not rebuilt at all while its inputs are unchanged.
 */
final class Images {
    /** The project image, as the manifests name it. */
    static final String PROJECT = "kdiag:0.1.0";
    static final Path REPO = Path.of(System.getProperty("kdiag.repo-root", "..")).toAbsolutePath().normalize();
    private static final String HASH_LABEL = "io.kdiag.context-sha256";
    private static Podman.Result projectBuild;
    private static boolean kafkaBuilt;

    private Images() {
    }

    /** Runs {@code make image ENGINE=podman} at the repository root once; how it ended. */
    static synchronized Podman.Result buildProject() {
        if (projectBuild == null) {
            projectBuild = Podman.run(List.of("make", "image", "ENGINE=podman"), Duration.ofMinutes(10), REPO);
            if (projectBuild.exitCode() == 0) {
                // the image an earlier run built, untagged by this one: only ours, never the machine's other images
                Podman.tryPodman("image", "prune", "-f", "--filter", "label=org.opencontainers.image.title=kube-diagnoser");
            }
        }
        return projectBuild;
    }

    /** The project image, built if this JVM has not built it yet. */
    static String project() {
        buildProject().orThrow(List.of("make", "image", "ENGINE=podman"));
        return PROJECT;
    }

    /** The Kafka image TestKafka uses, built when missing or when its inputs changed. */
    static synchronized String kafka() {
        String image = TestKafka.image();
        if (!kafkaBuilt) {
            Path context = Path.of(System.getProperty("kdiag.kafka-image-context"));
            String hash = hash(context);
            Podman.Result current = Podman.tryPodman("image", "inspect", "--format", "{{index .Labels \"" + HASH_LABEL + "\"}}", image);
            if (current.exitCode() != 0 || !current.out().strip().equals(hash)) {
                Podman.podman("build", "--label", HASH_LABEL + "=" + hash, "-t", image, context.toString());
            }
            kafkaBuilt = true;
        }
        return image;
    }

    /** A digest of the file names and contents of a build context. */
    private static String hash(Path context) {
        try (Stream<Path> files = Files.walk(context)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
                digest.update(context.relativize(file).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                digest.update(Files.readAllBytes(file));
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
