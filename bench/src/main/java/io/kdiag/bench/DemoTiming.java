package io.kdiag.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Section 8: wall time of {@code kdiag demo} on the built CLI ({@code cli/target}), with the time each line of its
 * output appeared, which splits it into JVM and stack start, each example, and the end.
 */
final class DemoTiming {
    private DemoTiming() {
    }

    static void run(Path repo, Path home, Report report) throws Exception {
        Path jar = repo.resolve("cli/target/kdiag-cli.jar");
        if (!Files.exists(jar)) {
            report.note("8 demo: skipped, " + jar + " is not built");
            return;
        }
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dkdiag.log.dir=" + home.resolve("logs"), "-cp", jar + ":" + repo.resolve("cli/target/lib") + "/*",
                "io.kdiag.cli.Kdiag", "demo");
        ProcessBuilder builder = new ProcessBuilder(command).directory(repo.toFile()).redirectErrorStream(true);
        builder.environment().put("KDIAG_HOME", home.toString());
        long start = System.nanoTime();
        Process demo = builder.start();
        List<String> marks = new ArrayList<>();
        double previous = 0;
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(demo.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                double at = (System.nanoTime() - start) / 1e9;
                if (line.startsWith("Embedded stack up") || line.startsWith("# ") || line.startsWith("Runaway stand-in")
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
}
