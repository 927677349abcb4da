package io.kdiag.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * The Containerfile copies the jars Maven built on the host onto a Debian base with a JDK, names the runnable jar's
 * folder and main class once, and installs exactly the packages of the executables the code runs. The container tier
 * (system-tests, {@code -Pcontainers}) builds the image and checks the same tools are really there.
 */
class ContainerfileTest {
    /** Where an executable the code runs comes from. */
    private static final Map<String, String> TOOLS = Map.of(
            "kill", "procps",
            "nsenter", "util-linux",
            "setsid", "util-linux",
            "ionice", "util-linux",
            "du", "coreutils",
            "nice", "coreutils",
            "jcmd", "openjdk-17-jdk-headless",
            // run in the container when the host root is / (the DaemonSet), else on the host through nsenter
            "systemctl", "systemd",
            "journalctl", "systemd",
            // from PyPI, only when the build is given PY_SPY_VERSION
            "py-spy", "python3-pip");
    /** How the code names an executable it runs. */
    private static final List<Pattern> EXEC = List.of(
            Pattern.compile("onPath\\(\\s*\"([a-z][a-z0-9_.-]*)\""),
            Pattern.compile("ProcessBuilder\\(\\s*\"([a-z][a-z0-9_.-]*)\""),
            Pattern.compile("List\\.of\\(\\s*\"([a-z][a-z0-9_.-]*)\",\\s*\"-"),
            Pattern.compile("\"bin\",\\s*\"([a-z][a-z0-9_.-]*)\""),
            // a configurable command whose key ends in its default (kdiag.log.journalctl = journalctl)
            Pattern.compile("ConfigKey\\.string\\(\"[a-z.-]+\\.([a-z][a-z0-9_-]*)\",\\s*\"\\1\""));
    private static final Pattern ALLOWING = Pattern.compile("allowing\\(\\s*Set\\.of\\(([^)]*)\\)");

    private final List<String> lines = Arrays.stream(Repo.read("Containerfile").replace("\\\n", " ").split("\n"))
            .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();

    @Test
    void shouldCopyTheHostBuiltJarsOntoADebianBaseWithoutAMavenStage() {
        assertThat(lines.stream().filter(l -> l.startsWith("FROM "))).containsExactly("FROM docker.io/library/debian:bookworm-slim");
        assertThat(String.join("\n", lines)).doesNotContain("mvn ").doesNotContain("--from=");
        assertThat(lines).contains("COPY ${APP_DIR}/*.jar ${APP_DIR}/lib/ /opt/kdiag/lib/");
        assertThat(Repo.read(".dockerignore")).contains("!*/target/*.jar", "!*/target/lib/");
    }

    @Test
    void shouldNameTheRunnableJarsFolderAndMainClassInOneLine() {
        Map<String, String> args = args();
        String appDir = args.get("APP_DIR");
        String mainClass = args.get("MAIN_CLASS");
        assertThat(appDir).as("ARG APP_DIR").matches("[a-z-]+/target");
        String module = appDir.substring(0, appDir.indexOf('/'));
        assertThat(Repo.path(module + "/src/main/java/" + mainClass.replace('.', '/') + ".java")).as("the main class in " + module).exists();
        assertThat(Repo.read(module + "/pom.xml")).as("the module copies its runtime dependencies to target/lib")
                .contains("copy-dependencies", "${project.build.directory}/lib");
        assertThat(lines.stream().filter(l -> l.contains("APP_DIR=") || l.contains("MAIN_CLASS="))).as("one line names both").hasSize(1);
        assertThat(Repo.read("Makefile")).as("the Makefile reads the folder from the Containerfile")
                .contains("APP_DIR := $(shell sed -n 's/^ARG APP_DIR=");
        String entrypoint = lines.stream().filter(l -> l.startsWith("ENTRYPOINT ")).reduce((a, b) -> b).orElseThrow();
        assertThat(entrypoint).isEqualTo("ENTRYPOINT [\"/usr/local/bin/kdiag\"]");
        assertThat(String.join("\n", lines)).contains("exec java -XX:MaxRAMPercentage=75 -cp \"/opt/kdiag/lib/*\" %s \"$@\"",
                "\"$MAIN_CLASS\" > /usr/local/bin/kdiag");
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
        assertThat(called).as("executables the code runs; a new one needs a row in TOOLS and, if packaged, the Containerfile")
                .contains("journalctl", "jcmd").isSubsetOf(TOOLS.keySet());
        Set<String> needed = new TreeSet<>();
        called.stream().map(TOOLS::get).forEach(needed::add);
        assertThat(installedPackages()).isEqualTo(needed);
    }

    /** {@code ARG NAME=value ...} of the Containerfile, by name. */
    private Map<String, String> args() {
        Map<String, String> args = new LinkedHashMap<>();
        lines.stream().filter(l -> l.startsWith("ARG ")).forEach(l -> {
            for (String word : l.substring(4).strip().split("\\s+")) {
                int eq = word.indexOf('=');
                args.put(eq < 0 ? word : word.substring(0, eq), eq < 0 ? "" : word.substring(eq + 1));
            }
        });
        return args;
    }

    private Set<String> installedPackages() {
        Set<String> packages = new TreeSet<>();
        for (String line : lines) {
            Matcher m = Pattern.compile("apt-get install ([^&;]*)").matcher(line);
            while (m.find()) {
                List<String> words = new ArrayList<>(List.of(m.group(1).strip().split("\\s+")));
                words.removeIf(w -> w.startsWith("-"));
                packages.addAll(words);
            }
        }
        return packages;
    }
}
