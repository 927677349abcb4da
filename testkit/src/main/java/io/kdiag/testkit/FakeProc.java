package io.kdiag.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a fake {@code /proc} under a host root, as process-collector reads it. */
public final class FakeProc {
    public static final long BOOT_TIME = 1_700_000_000L;
    private final Path proc;

    public FakeProc(Path hostRoot) throws IOException {
        this.proc = Files.createDirectories(hostRoot.resolve("proc"));
        Files.writeString(proc.resolve("stat"), "cpu  1 2 3 4\nbtime " + BOOT_TIME + "\nprocesses 100\n");
    }

    /** A process with the given stat fields; {@code cmdline} NUL-separated, empty for a kernel thread. */
    public FakeProc process(long pid, String comm, char state, long ppid, long utime, long stime, long nice, long startTicks,
                     String cmdline, String statusVm) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(String.valueOf(pid)));
        // fields 3..22 of /proc/<pid>/stat; the ones not read are 0
        String stat = pid + " (" + comm + ") " + state + " " + ppid + " 0 0 0 0 0 0 0 0 0 " + utime + " " + stime
                + " 0 0 20 " + nice + " 1 0 " + startTicks + " 12345 67 0\n";
        Files.writeString(dir.resolve("stat"), stat);
        Files.write(dir.resolve("cmdline"), cmdline.getBytes(StandardCharsets.UTF_8));
        Files.writeString(dir.resolve("status"), "Name:\t" + comm + "\nState:\t" + state + "\nTgid:\t" + pid + "\nPid:\t" + pid
                + "\nPPid:\t" + ppid + "\n" + statusVm);
        return this;
    }

    public Path proc() {
        return proc;
    }
}
