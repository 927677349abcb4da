package io.kdiag.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Section 8: wall time of {@code ./kdiag demo} on the built CLI ({@code all-in-one/target}), run by the {@code kdiag} script as a
 * user runs it (its JVM options and class-data archive) but without its build step, with the time each line of its
 * output appeared, which splits it into JVM and stack start, each example, and the end. The archive is recorded first
 * if the CLI was built since, outside the measured time: it is part of the build.
 */
final class DemoTiming {
    private DemoTiming() {
    }

    static void run(Path repo, Path home, Report report) throws Exception {
        Path jar = repo.resolve("all-in-one/target/kdiag.jar");
        if (!Files.exists(jar)) {
            report.note("8 demo: skipped, " + jar + " is not built");
            return;
        }
        long preparing = System.nanoTime();
        ProcessBuilder prepare = script(repo, home).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        prepare.environment().put("KDIAG_PREPARE_ONLY", "1");
        int prepared = prepare.start().waitFor();
        double preparedIn = (System.nanoTime() - preparing) / 1e9;
        if (prepared != 0 || preparedIn > 1) {
            report.note(String.format("8 demo: kdiag prepared its class-data archive first (exit %d, %.1f s, not measured)",
                    prepared, preparedIn));
        }
        ProcessBuilder builder = script(repo, home, "demo");
        long start = System.nanoTime();
        Process demo = builder.start();
        List<String> marks = new ArrayList<>();
        double previous = 0;
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(demo.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                double at = (System.nanoTime() - start) / 1e9;
                if (line.startsWith("Embedded stack up") || line.startsWith("# ") || line.startsWith("After expiry")
                        || line.startsWith("Runaway stand-in")
                        || line.startsWith("Demo finished")) {
                    String what = line.length() > 60 ? line.substring(0, 60) : line;
                    marks.add(String.format("%.1f s (+%.1f) %s", at, at - previous, what));
                    previous = at;
                }
            }
        }
        int exit = demo.waitFor();
        double wall = (System.nanoTime() - start) / 1e9;
        report.add("8 demo", "kdiag demo wall time (exit " + exit + ")", String.format("%.1f s", wall), "<= 15 s after the build",
                exit == 0 && wall <= 15);
        marks.forEach(m -> report.note("    " + m));
    }

    /** {@code ./kdiag ARGS} in the repository, on the CLI as built, with its data under {@code home}. */
    private static ProcessBuilder script(Path repo, Path home, String... args) {
        List<String> command = new ArrayList<>(List.of(repo.resolve("kdiag").toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(repo.toFile()).redirectErrorStream(true);
        builder.environment().put("KDIAG_HOME", home.toString());
        builder.environment().put("KDIAG_NO_BUILD", "1");
        return builder;
    }
}
