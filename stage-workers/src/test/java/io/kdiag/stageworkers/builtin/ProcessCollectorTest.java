package io.kdiag.stageworkers.builtin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.TestNodes;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;
import io.kdiag.testkit.FakeProc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessCollectorTest {
    @TempDir
    Path root;

    private WorkResult collect(long nowMillis) throws Exception {
        Clock clock = Clock.fixed(Instant.ofEpochMilli(nowMillis), ZoneOffset.UTC);
        return new ProcessCollector(clock).run(new WorkContext("u", "ns", "n", "node", new AbnormalSpec(), Map.of(),
                TestNodes.at(HostPaths.of(root), 999)));
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> processes(WorkResult result) {
        return (List<Map<String, Object>>) result.contextUpdates().get("processInformation");
    }

    @Test
    void shouldReadEveryProcessWithTheOriginalFields() throws Exception {
        new FakeProc(root)
                .process(1, "systemd", 'S', 0, 100, 50, 0, 100, "/sbin/init\0splash\0", "VmSize:\t  2000 kB\nVmRSS:\t  1000 kB\n")
                .process(42, "my app (x)", 'R', 1, 300, 200, -5, 1000, "java\0-jar\0app.jar\0",
                        "VmPeak:\t 9 kB\nVmSize:\t 8 kB\nVmLck:\t 1 kB\nVmHWM:\t 7 kB\nVmRSS:\t 6 kB\nVmData:\t 5 kB\nVmStk:\t 4 kB\nVmSwap:\t 3 kB\n");
        // pid 42 started 10 s after boot; 100 s later it has used 5 s of CPU
        long started = (FakeProc.BOOT_TIME + 10) * 1000;

        WorkResult result = collect(started + 100_000);

        assertThat(result.succeeded()).isTrue();
        assertThat(processes(result)).extracting(p -> p.get("pid")).containsExactly(1L, 42L);
        Map<String, Object> app = processes(result).get(1);
        assertThat(app).containsEntry("ppid", 1L).containsEntry("tgid", 42L).containsEntry("status", "R")
                .containsEntry("command", List.of("java", "-jar", "app.jar")).containsEntry("createTime", started)
                .containsEntry("cpuPercent", 5.0).containsEntry("nice", -5L);
        assertThat(app.get("memoryInfo")).isEqualTo(Map.of("rss", 6144L, "vms", 8192L, "hwm", 7168L, "data", 5120L,
                "stack", 4096L, "locked", 1024L, "swap", 3072L));
        assertThat(app.keySet()).containsExactly("pid", "ppid", "tgid", "command", "status", "createTime", "cpuPercent",
                "nice", "memoryInfo");
    }

    @Test
    void shouldNameKernelThreadsInBrackets() throws Exception {
        new FakeProc(root).process(2, "kthreadd", 'S', 0, 0, 0, 0, 1, "", "");

        Map<String, Object> kthread = processes(collect(FakeProc.BOOT_TIME * 1000 + 5000)).get(0);

        assertThat(kthread.get("command")).isEqualTo(List.of("[kthreadd]"));
        assertThat(kthread.get("memoryInfo")).isEqualTo(Map.of("rss", 0L, "vms", 0L, "hwm", 0L, "data", 0L, "stack", 0L,
                "locked", 0L, "swap", 0L));
    }

    @Test
    void shouldSkipVanishedAndUnreadableEntries() throws Exception {
        FakeProc proc = new FakeProc(root).process(7, "ok", 'S', 1, 0, 0, 0, 1, "ok\0", "");
        Files.createDirectories(proc.proc().resolve("8"));
        Files.writeString(Files.createDirectories(proc.proc().resolve("9")).resolve("stat"), "garbage");
        Files.createDirectories(proc.proc().resolve("self"));

        assertThat(processes(collect(FakeProc.BOOT_TIME * 1000 + 5000))).extracting(p -> p.get("pid")).containsExactly(7L);
    }

    @Test
    void shouldReadTheRealProcOfThisMachine() throws Exception {
        WorkResult result = new ProcessCollector().run(new WorkContext("u", "ns", "n", "node", new AbnormalSpec(), Map.of(),
                TestNodes.at(HostPaths.of(Path.of("/")), 0)));

        assertThat(processes(result)).anySatisfy(p -> assertThat(p.get("pid")).isEqualTo(ProcessHandle.current().pid()));
    }
}
