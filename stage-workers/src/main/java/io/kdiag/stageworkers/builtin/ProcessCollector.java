package io.kdiag.stageworkers.builtin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;

/**
 * {@code process-collector}: every process of the host, read from {@code <hostRoot>/proc}, into
 * {@code processInformation} with the original's fields (pid, ppid, tgid, command, status, createTime, cpuPercent,
 * nice, memoryInfo). A process that vanishes or cannot be read while scanning is skipped.
 */
public final class ProcessCollector implements StageWorker {
    private static final int CALL_TIMEOUT_SECONDS = 120;
    /** The context key of the output. */
    public static final String PROCESS_INFORMATION = "processInformation";
    // USER_HZ: the unit of /proc times on every Linux architecture Kubernetes runs on
    private static final double CLOCK_TICKS = 100.0;

    private final Clock clock;

    /** The collector, as the service loader creates it. */
    public ProcessCollector() {
        this(Clock.systemUTC());
    }

    ProcessCollector(Clock clock) {
        this.clock = clock;
    }

    @Override
    public String name() {
        return "process-collector";
    }

    @Override
    public Stage stage() {
        return Stage.InformationCollection;
    }

    /** {@value #CALL_TIMEOUT_SECONDS} s, the timeoutSeconds of KubeDiag v0.1.6's registration of this built-in. */
    @Override
    public Duration timeout() {
        return Duration.ofSeconds(CALL_TIMEOUT_SECONDS);
    }

    @Override
    public WorkResult run(WorkContext ctx) throws IOException {
        Path proc = ctx.host().resolve("/proc");
        long bootTimeMillis = bootTimeSeconds(proc) * 1000;
        long now = clock.millis();
        List<Map<String, Object>> processes = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(proc, p -> isPid(p.getFileName().toString()))) {
            for (Path dir : entries) {
                try {
                    processes.add(read(dir, bootTimeMillis, now));
                } catch (IOException | RuntimeException e) {
                    // gone or unreadable between listing and reading: skipped, as the original did
                }
            }
        }
        processes.sort((a, b) -> Long.compare((Long) a.get("pid"), (Long) b.get("pid")));
        return WorkResult.succeeded(Map.of(PROCESS_INFORMATION, processes), Set.of());
    }

    private static boolean isPid(String name) {
        if (name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    private static long bootTimeSeconds(Path proc) throws IOException {
        for (String line : Files.readAllLines(proc.resolve("stat"), StandardCharsets.UTF_8)) {
            if (line.startsWith("btime ")) {
                return Long.parseLong(line.substring(6).strip());
            }
        }
        throw new IOException("no btime line in " + proc.resolve("stat"));
    }

    private static Map<String, Object> read(Path dir, long bootTimeMillis, long now) throws IOException {
        String stat = Files.readString(dir.resolve("stat"), StandardCharsets.UTF_8);
        // comm may itself contain spaces and parentheses: it ends at the last ')'
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        String comm = stat.substring(open + 1, close);
        String[] f = stat.substring(close + 2).strip().split(" ");
        long utime = Long.parseLong(f[11]);
        long stime = Long.parseLong(f[12]);
        long createTime = bootTimeMillis + Math.round(Long.parseLong(f[19]) * 1000 / CLOCK_TICKS);
        double runningSeconds = (now - createTime) / 1000.0;
        double cpuSeconds = (utime + stime) / CLOCK_TICKS;
        double cpuPercent = runningSeconds <= 0 ? 0 : Math.round(cpuSeconds / runningSeconds * 100 * 100) / 100.0;

        Map<String, Long> status = status(dir.resolve("status"));
        Map<String, Object> process = new LinkedHashMap<>();
        process.put("pid", Long.parseLong(dir.getFileName().toString()));
        process.put("ppid", Long.parseLong(f[1]));
        process.put("tgid", status.getOrDefault("Tgid", Long.parseLong(dir.getFileName().toString())));
        process.put("command", command(dir.resolve("cmdline"), comm));
        process.put("status", f[0]);
        process.put("createTime", createTime);
        process.put("cpuPercent", cpuPercent);
        process.put("nice", Long.parseLong(f[16]));
        Map<String, Object> memory = new LinkedHashMap<>();
        memory.put("rss", status.getOrDefault("VmRSS", 0L));
        memory.put("vms", status.getOrDefault("VmSize", 0L));
        memory.put("hwm", status.getOrDefault("VmHWM", 0L));
        memory.put("data", status.getOrDefault("VmData", 0L));
        memory.put("stack", status.getOrDefault("VmStk", 0L));
        memory.put("locked", status.getOrDefault("VmLck", 0L));
        memory.put("swap", status.getOrDefault("VmSwap", 0L));
        process.put("memoryInfo", memory);
        return process;
    }

    private static List<String> command(Path cmdline, String comm) throws IOException {
        String text = new String(Files.readAllBytes(cmdline), StandardCharsets.UTF_8);
        List<String> args = new ArrayList<>(Arrays.asList(text.split("\0")));
        args.removeIf(String::isEmpty);
        // kernel threads have no command line; ps shows them by name in brackets
        return args.isEmpty() ? List.of("[" + comm + "]") : args;
    }

    /**
     * Tgid and the Vm* sizes of /proc/<pid>/status, sizes in bytes. Only those few of its ~55 lines are parsed: the
     * collector reads this file for every process of the host on each call.
     */
    private static Map<String, Long> status(Path file) throws IOException {
        Map<String, Long> values = new HashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.startsWith("Tgid:")) {
                values.put("Tgid", Long.parseLong(line.substring("Tgid:".length()).strip()));
            } else if (line.startsWith("Vm") && line.endsWith(" kB")) {
                int colon = line.indexOf(':');
                if (colon > 0) {
                    values.put(line.substring(0, colon), Long.parseLong(line.substring(colon + 1, line.length() - " kB".length()).strip()) * 1024);
                }
            }
        }
        return values;
    }
}
