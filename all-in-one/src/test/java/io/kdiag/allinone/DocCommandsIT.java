package io.kdiag.allinone;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every shell command README.md and docs/ show, run as written against a {@code ./kdiag up} started as a user starts it,
 * so the documentation cannot drift from the code. A fenced block is a command block when its language is
 * {@code bash}, {@code sh} or {@code console}, or when its lines start with {@code $ } (the command, followed by what
 * it prints). Words after the language say how the block is checked:
 * <ul>
 * <li>none: run in the repository root with {@code bash -e}; it must exit 0, and a {@code $} block's output must
 * begin with the same word as the output the doc shows;</li>
 * <li>{@code exit=N}: it must exit with N;</li>
 * <li>{@code ci}: {@code .ci/run} runs it as written (the test command and the demo): checked to be there;</li>
 * <li>{@code container}: needs a container engine; the container tier (module system-tests, run by {@code .ci/run})
 * runs it as written: checked to be read by that tier's tests;</li>
 * <li>{@code cluster}: needs a Kubernetes cluster (kubectl, the image registry), which this machine cannot have; the
 * manifests these blocks apply are rendered and checked by the deploy module's tests.</li>
 * <li>{@code long}: runs for many minutes (the full benchmark runs); run by hand, listed here so none goes unnoticed.</li>
 * </ul>
 * Blocks run in document order, README.md first, against one stack, so a later block may use what an earlier one
 * created (the README's first abnormals).
 */
class DocCommandsIT {
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern FENCE = Pattern.compile("^\\s*```(\\S*)(.*)$");
    private static final Duration BLOCK_TIMEOUT = Duration.ofMinutes(3);
    private static final Duration STACK_START = Duration.ofMinutes(3);

    @TempDir
    static Path home;
    private static Process stack;

    /** One command block of a document. */
    record Block(Path doc, int line, String language, List<String> tags, List<String> lines) {
        String name() {
            return REPO.relativize(doc) + ":" + line;
        }

        boolean prompted() {
            return lines.stream().anyMatch(l -> l.startsWith("$ "));
        }

        int expectedExit() {
            return tags.stream().filter(t -> t.startsWith("exit=")).map(t -> Integer.parseInt(t.substring(5))).findFirst().orElse(0);
        }
    }

    @BeforeAll
    static void startStack() throws Exception {
        ProcessBuilder up = new ProcessBuilder(REPO.resolve("kdiag").toString(), "up")
                .directory(REPO.toFile())
                .redirectErrorStream(true)
                .redirectOutput(home.resolve("up.out").toFile());
        environment(up);
        stack = up.start();
        long deadline = System.nanoTime() + STACK_START.toNanos();
        while (!Files.exists(home.resolve("stack.properties"))) {
            if (!stack.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("./kdiag up did not start: " + Files.readString(home.resolve("up.out")));
            }
            TimeUnit.MILLISECONDS.sleep(200);
        }
    }

    @AfterAll
    static void stopStack() throws Exception {
        if (stack != null) {
            stack.destroy();
            if (!stack.waitFor(60, TimeUnit.SECONDS)) {
                stack.destroyForcibly();
            }
        }
    }

    @TestFactory
    Stream<DynamicTest> everyDocumentedCommandDoesWhatTheDocSays() throws IOException {
        List<Path> docs = new ArrayList<>();
        docs.add(REPO.resolve("README.md"));
        try (Stream<Path> files = Files.walk(REPO.resolve("docs"))) {
            files.filter(f -> f.toString().endsWith(".md")).sorted().forEach(docs::add);
        }
        List<Block> blocks = new ArrayList<>();
        for (Path doc : docs) {
            blocks.addAll(blocks(doc));
        }
        assertThat(blocks).as("command blocks found").isNotEmpty();
        return blocks.stream().map(block -> DynamicTest.dynamicTest(block.name(), () -> check(block)));
    }

    private static void check(Block block) throws Exception {
        if (block.tags().contains("cluster") || block.tags().contains("long")) {
            return;
        }
        if (block.tags().contains("ci")) {
            String ci = Files.readString(REPO.resolve(".ci/run"));
            for (String command : commands(block)) {
                assertThat(ci.lines().map(String::strip)).as(".ci/run runs %s", command).contains(command);
            }
            return;
        }
        if (block.tags().contains("container")) {
            assertThat(containerTierSources()).as("a container-tier test runs the blocks of %s", block.name())
                    .contains('"' + REPO.relativize(block.doc()).toString() + '"');
            return;
        }
        if (!block.prompted()) {
            Result result = run(String.join("\n", block.lines()));
            assertThat(result.exit()).as("exit code of %s; output:%n%s", block.name(), result.output()).isEqualTo(block.expectedExit());
            return;
        }
        // a transcript: each "$ command" (with its continuation lines) and the output the doc shows after it
        List<String> lines = block.lines();
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).startsWith("$ ")) {
                continue;
            }
            StringBuilder command = new StringBuilder(lines.get(i).substring(2));
            while (command.toString().endsWith("\\") && i + 1 < lines.size()) {
                command.append('\n').append(lines.get(++i));
            }
            String shown = i + 1 < lines.size() && !lines.get(i + 1).startsWith("$ ") ? lines.get(i + 1).strip() : "";
            Result result = run(command.toString());
            assertThat(result.exit()).as("exit code of %s in %s; output:%n%s", command, block.name(), result.output())
                    .isEqualTo(block.expectedExit());
            if (!shown.isEmpty()) {
                assertThat(firstWord(result.output())).as("output of %s in %s:%n%s", command, block.name(), result.output())
                        .isEqualTo(firstWord(shown));
            }
        }
    }

    /** The container tier's test sources, as one text. */
    private static String containerTierSources() throws IOException {
        StringBuilder sources = new StringBuilder();
        try (Stream<Path> files = Files.walk(REPO.resolve("system-tests/src/test/java"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                sources.append(Files.readString(file));
            }
        }
        return sources.toString();
    }

    /** The first word of a text, punctuation aside: what a transcript's output must start with. */
    private static String firstWord(String text) {
        return Stream.of(text.strip().split("\\W+")).filter(w -> !w.isEmpty()).findFirst().orElse("");
    }

    /** The commands of a block, one per line, comments and continuations joined. */
    private static List<String> commands(Block block) {
        return block.lines().stream().map(l -> l.replaceFirst("\\s+#.*$", "").strip()).filter(l -> !l.isEmpty()).toList();
    }

    private record Result(int exit, String output) {
    }

    private static Result run(String script) throws Exception {
        Path out = Files.createTempFile(home, "block", ".out");
        ProcessBuilder builder = new ProcessBuilder("bash", "-e", "-o", "pipefail", "-c", script + "\nwait")
                .directory(REPO.toFile())
                .redirectErrorStream(true)
                .redirectOutput(out.toFile());
        environment(builder);
        Process process = builder.start();
        if (!process.waitFor(BLOCK_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            throw new AssertionError("did not finish within " + BLOCK_TIMEOUT.toMinutes() + " min: " + script
                    + "\noutput:\n" + Files.readString(out));
        }
        return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    }

    /** What a user's shell has after the README's set-up: the running stack's home, the jar as built. */
    private static void environment(ProcessBuilder builder) {
        Map<String, String> env = builder.environment();
        env.put("KDIAG_HOME", home.toString());
        // the jar the build just made; no rebuild and no class-data recording inside a test
        env.put("KDIAG_NO_BUILD", "1");
        env.put("KDIAG_CDS", "off");
        env.put("PATH", System.getenv("PATH") + File.pathSeparator + "/usr/sbin" + File.pathSeparator + "/sbin");
    }

    private static List<Block> blocks(Path doc) throws IOException {
        List<String> lines = Files.readAllLines(doc);
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher open = FENCE.matcher(lines.get(i));
            if (!open.matches()) {
                continue;
            }
            String indent = lines.get(i).substring(0, lines.get(i).indexOf('`'));
            int end = i + 1;
            while (end < lines.size() && !lines.get(end).strip().startsWith("```")) {
                end++;
            }
            List<String> body = lines.subList(i + 1, end).stream()
                    .map(l -> l.startsWith(indent) ? l.substring(indent.length()) : l).toList();
            String language = open.group(1);
            List<String> tags = List.of(open.group(2).strip().split("\\s+")).stream().filter(t -> !t.isEmpty()).toList();
            boolean shell = language.equals("bash") || language.equals("sh") || language.equals("console");
            if (shell || !body.isEmpty() && body.get(0).startsWith("$ ")) {
                blocks.add(new Block(doc, i + 1, language, tags, body));
            }
            i = end;
        }
        return blocks;
    }
}
