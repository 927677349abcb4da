package io.kdiag.systemtests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/** The project image, built with {@code make image} as docs/install.md says, and what it carries. */
class ImageContainerIT {

    @Test
    void shouldBuildTheImageWithMakeImage() {
        Podman.Result build = Images.buildProject();
        assertThat(build.exitCode()).as(build.err() + build.out()).isZero();
        assertThat(Podman.podman("image", "inspect", "--format", "{{.Config.User}} {{.Config.Entrypoint}}", Images.PROJECT))
                .isEqualTo("10001:10001 [/usr/local/bin/kdiag]");
        assertThat(Podman.podman("run", "--rm", "--label", Podman.RUN_LABEL, Images.project(), "--version")).isEqualTo("kdiag 0.1.0");
        // the commands of install.md, as written (the build above left the engine's cache warm)
        Podman.Result documented = Podman.run(List.of("bash", "-euo", "pipefail", "-c",
                Docs.blocks("docs/install.md", "## The image", "bash").get(0)), Duration.ofMinutes(10), Images.REPO);
        assertThat(documented.exitCode()).as(documented.err() + documented.out()).isZero();
        assertThat(documented.out().strip()).endsWith("kdiag 0.1.0");
    }

    @Test
    void shouldCarryEveryExecutableTheComponentsRun() {
        // the list of deploy's ContainerfileTest, which derives it from the code; the JDK's jcmd where the Java profiler looks
        List<String> tools = List.of("/usr/bin/kill", "nsenter", "setsid", "ionice", "du", "nice", "systemctl", "journalctl");
        String found = Podman.podman("run", "--rm", "--label", Podman.RUN_LABEL, "--entrypoint", "sh", Images.project(), "-c",
                "for t in " + String.join(" ", tools) + "; do command -v $t || echo missing $t; done; "
                        + "java -XshowSettings:properties -version 2>&1 | sed -n 's/ *java.home = //p'");
        assertThat(found).doesNotContain("missing");
        String javaHome = found.lines().reduce((a, b) -> b).orElseThrow();
        assertThat(Podman.podman("run", "--rm", "--label", Podman.RUN_LABEL, "--entrypoint", javaHome + "/bin/jcmd", Images.project(), "-h"))
                .contains("Usage: jcmd");
        // py-spy only with PY_SPY_VERSION; without it the Python profiler says what to do
        assertThat(Podman.tryPodman("run", "--rm", "--label", Podman.RUN_LABEL, "--entrypoint", "sh", Images.project(), "-c",
                "command -v py-spy").exitCode()).isNotZero();
    }

    @Test
    void shouldRunAsNonRootByDefault() {
        assertThat(Podman.podman("run", "--rm", "--label", Podman.RUN_LABEL, "--entrypoint", "id", Images.project()))
                .startsWith("uid=10001(kdiag) gid=10001(kdiag)");
    }

    @Test
    void shouldStayWithinTheSizeBudgetInstallMdStates() throws IOException {
        String install = Files.readString(Images.REPO.resolve("docs/install.md"));
        Matcher budget = Pattern.compile("size budget is \\*\\*(\\d+) MB\\*\\*").matcher(install);
        assertThat(budget.find()).as("docs/install.md states the image's size budget").isTrue();
        long size = Long.parseLong(Podman.podman("image", "inspect", "--format", "{{.Size}}", Images.project()));
        assertThat(size).as("image size in bytes").isLessThanOrEqualTo(Long.parseLong(budget.group(1)) * 1_000_000);
    }
}
