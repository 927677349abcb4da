package io.kdiag.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * The Dockerfile (which cannot be built here: no Docker engine) builds the CLI in a Maven stage, runs it on the
 * Temurin 17 JDK, and installs exactly the packages of the executables the code runs.
 */
class DockerfileTest {
    /** Where an executable the code runs comes from. */
    private static final String JDK = "(the JDK of the base image)";
    private static final String HOST = "(the host, through nsenter)";
    private static final String NOT_SHIPPED = "(not shipped: installed on the node by the user, docs/operations.md)";
    private static final Map<String, String> TOOLS = Map.of(
            "kill", "procps",
            "nsenter", "util-linux",
            "setsid", "util-linux",
            "ionice", "util-linux",
            "du", "coreutils",
            "nice", "coreutils",
            "jcmd", JDK,
            "systemctl", HOST,
            "py-spy", NOT_SHIPPED);
    /** How the code names an executable it runs. */
    private static final List<Pattern> EXEC = List.of(
            Pattern.compile("onPath\\(\\s*\"([a-z][a-z0-9_.-]*)\""),
            Pattern.compile("ProcessBuilder\\(\\s*\"([a-z][a-z0-9_.-]*)\""),
            Pattern.compile("List\\.of\\(\\s*\"([a-z][a-z0-9_.-]*)\",\\s*\"-"),
            Pattern.compile("\"bin\",\\s*\"([a-z][a-z0-9_.-]*)\""));
    private static final Pattern ALLOWING = Pattern.compile("allowing\\(\\s*Set\\.of\\(([^)]*)\\)");

    private final List<String> lines = Arrays.stream(Repo.read("Dockerfile").replace("\\\n", " ").split("\n"))
            .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();

    @Test
    void shouldBuildTheCliWithMavenAndRunItOnTheTemurin17Jdk() {
        List<String> from = lines.stream().filter(l -> l.startsWith("FROM ")).toList();
        assertThat(from).hasSize(2);
        assertThat(from.get(0)).matches("FROM maven:[^ ]*eclipse-temurin-17 AS build");
        assertThat(from.get(1)).isEqualTo("FROM eclipse-temurin:17-jdk");
        assertThat(String.join("\n", lines)).contains("mvn -B -DskipTests package -pl all-in-one -am");
        assertThat(lines).contains("COPY --from=build /opt/kdiag/lib /opt/kdiag/lib");
        String entrypoint = lines.stream().filter(l -> l.startsWith("ENTRYPOINT ")).reduce((a, b) -> b).orElseThrow();
        assertThat(entrypoint).startsWith("ENTRYPOINT [\"java\"").contains("\"/opt/kdiag/lib/*\"", "\"io.kdiag.allinone.Kdiag\"");
        assertThat(Repo.path("all-in-one/src/main/java/io/kdiag/allinone/Kdiag.java")).exists();
        String user = lines.stream().filter(l -> l.startsWith("USER ")).reduce((a, b) -> b).orElseThrow();
        assertThat(user).as("non-root unless a manifest asks for root").doesNotContain(" 0").doesNotContain("root");
    }

    @Test
    void shouldInstallExactlyThePackagesOfTheExecutablesTheCodeRuns() {
        Set<String> called = new TreeSet<>();
        for (String source : Repo.mainSources("stage-workers", "node-agent", "profilers", "source-bridge", "status-writer")) {
            for (Pattern p : EXEC) {
                Matcher m = p.matcher(source);
                while (m.find()) {
                    called.add(m.group(1));
                }
            }
            Matcher m = ALLOWING.matcher(source);
            while (m.find()) {
                Matcher name = Pattern.compile("\"([^\"]+)\"").matcher(m.group(1));
                while (name.find()) {
                    called.add(name.group(1));
                }
            }
        }
        assertThat(called).as("executables the code runs; a new one needs a row in TOOLS and, if packaged, the Dockerfile")
                .isNotEmpty().isSubsetOf(TOOLS.keySet());
        Set<String> needed = new TreeSet<>();
        called.stream().map(TOOLS::get).filter(pkg -> !pkg.startsWith("(")).forEach(needed::add);
        assertThat(installedPackages()).isEqualTo(needed);
    }

    private Set<String> installedPackages() {
        Set<String> packages = new TreeSet<>();
        for (String line : lines) {
            Matcher m = Pattern.compile("apt-get install ([^&]*)").matcher(line);
            while (m.find()) {
                List<String> words = new ArrayList<>(List.of(m.group(1).strip().split("\\s+")));
                words.removeIf(w -> w.startsWith("-"));
                packages.addAll(words);
            }
        }
        return packages;
    }
}
