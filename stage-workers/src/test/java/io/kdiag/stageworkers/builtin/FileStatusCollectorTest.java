package io.kdiag.stageworkers.builtin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.kdiag.stageworkers.spi.WorkResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileStatusCollectorTest {
    @TempDir
    Path root;

    private static Map<String, Object> paths(Object paths) {
        return Map.of("filePathInformation", paths);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> statuses(WorkResult result) {
        assertThat(result.succeeded()).as(result.toString()).isTrue();
        return (List<Map<String, Object>>) result.contextUpdates().get("fileStatusInformation");
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> entries(Map<String, Object> status) {
        return (List<Map<String, Object>>) status.get("fileStatuses");
    }

    private void logTree() throws Exception {
        DiskFixtures.file(root, "/var/log/small.log", 1_000);
        DiskFixtures.file(root, "/var/log/pods/a/0.log", 120_000);
        DiskFixtures.file(root, "/var/log/pods/b/0.log", 30_000);
        DiskFixtures.file(root, "/var/log/big.log", 60_000);
        Files.createSymbolicLink(root.resolve("var/log/latest"), Path.of("/var/log/big.log"));
    }

    private void checkTree(List<Map<String, Object>> statuses) throws Exception {
        Map<String, Object> log = statuses.get(0);
        assertThat(log).containsEntry("path", "/var/log").containsEntry("type", "directory");
        assertThat((Long) log.get("diskUsage")).isGreaterThanOrEqualTo(211_000);
        assertThat(entries(log)).extracting(e -> e.get("path"))
                .startsWith("/var/log/pods", "/var/log/big.log", "/var/log/small.log");
        assertThat(entries(log)).extracting(e -> e.get("path")).contains("/var/log/latest").hasSize(4);
        Map<String, Object> pods = entries(log).get(0);
        assertThat((Long) pods.get("diskUsage")).isGreaterThanOrEqualTo(150_000).isLessThanOrEqualTo((Long) log.get("diskUsage"));
        assertThat(pods).doesNotContainKey("fileStatuses").containsEntry("type", "directory");
        assertThat(entries(log)).filteredOn(e -> e.get("path").equals("/var/log/latest")).singleElement()
                .satisfies(e -> assertThat(e).containsEntry("type", "symlink").containsEntry("linkTarget", "/var/log/big.log"));
    }

    @Test
    void shouldDescribeAFileWithTheOriginalFields() throws Exception {
        Path file = DiskFixtures.file(root, "/etc/kubernetes/kubelet.conf", 5_000);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
        Files.setLastModifiedTime(file, FileTime.from(Instant.parse("2020-08-13T07:44:42Z")));
        Files.createLink(root.resolve("etc/kubernetes/hardlink"), file);

        Map<String, Object> status = statuses(new FileStatusCollector().run(
                Contexts.at(root, paths(List.of("/etc/kubernetes/kubelet.conf")), null))).get(0);

        assertThat(status).containsEntry("path", "/etc/kubernetes/kubelet.conf").containsEntry("type", "file")
                .containsEntry("mode", "0640").containsEntry("links", 2).containsEntry("size", 5_000L)
                .containsEntry("modTime", "2020-08-13T07:44:42Z")
                .containsEntry("uid", Files.getAttribute(file, "unix:uid")).containsEntry("gid", Files.getAttribute(file, "unix:gid"))
                .containsEntry("inode", Files.getAttribute(file, "unix:ino"))
                .doesNotContainKeys("fileStatuses", "error", "diskUsageError");
        assertThat((Long) status.get("diskUsage")).isGreaterThanOrEqualTo(5_000);
    }

    @Test
    void shouldListADirectorysEntriesLargestFirstWithDu() throws Exception {
        logTree();

        checkTree(statuses(new FileStatusCollector().run(Contexts.at(root, paths(List.of("/var/log")), null))));
    }

    @Test
    void shouldCountWithAJavaWalkWhereDuIsMissing() throws Exception {
        logTree();
        Contexts.FakeRunner runner = new Contexts.FakeRunner(c -> Contexts.failed(c, "not expected"));

        checkTree(statuses(new FileStatusCollector(new DiskUsage(runner, false, false, false))
                .run(Contexts.at(root, paths(List.of("/var/log")), null))));
        assertThat(runner.commands).isEmpty();
    }

    @Test
    void shouldGiveAnErrorEntryForAPathThatCannotBeRead() throws Exception {
        DiskFixtures.file(root, "/etc/hostname", 10);

        List<Map<String, Object>> statuses = statuses(new FileStatusCollector().run(Contexts.at(root,
                paths(List.of("/no/such/file", "/../../etc/passwd", "/etc/hostname/child", "/etc/hostname")), null)));

        assertThat(statuses).extracting(s -> s.get("path"))
                .containsExactly("/no/such/file", "/../../etc/passwd", "/etc/hostname/child", "/etc/hostname");
        assertThat(statuses.get(0)).containsOnlyKeys("path", "error").containsEntry("error", "no such file or directory");
        assertThat((String) statuses.get(1).get("error")).contains("escapes the host root");
        assertThat(statuses.get(2)).containsKey("error");
        assertThat(statuses.get(3)).containsEntry("type", "file").doesNotContainKey("error");
    }

    @Test
    void shouldReportADuFailureOrTimeoutWithoutLosingTheStatus() throws Exception {
        logTree();
        Contexts.FakeRunner runner = new Contexts.FakeRunner(c -> c.contains("-s")
                ? Contexts.timedOut(c, 60) : Contexts.failed(c, "du: cannot read directory"));

        List<Map<String, Object>> statuses = statuses(new FileStatusCollector(new DiskUsage(runner, true, true, true))
                .run(Contexts.at(root, paths(List.of("/var/log/big.log", "/var/log")), null)));

        assertThat(statuses.get(0)).containsEntry("diskUsage", 0L).containsEntry("size", 60_000L);
        assertThat((String) statuses.get(0).get("diskUsageError")).contains("timed out");
        assertThat(runner.commands.get(0)).containsExactly("nice", "-n", "19", "ionice", "-c", "3", "du", "-B", "1", "-s",
                root.resolve("var/log/big.log").toString());
        assertThat((String) statuses.get(1).get("diskUsageError")).contains("cannot read directory");
        assertThat(entries(statuses.get(1))).hasSize(4).allSatisfy(e -> assertThat(e).containsEntry("diskUsage", 0L));
    }

    @Test
    void shouldRefuseMissingOrRelativePaths() throws Exception {
        WorkResult missing = new FileStatusCollector().run(Contexts.at(root, null, null));
        WorkResult relative = new FileStatusCollector().run(Contexts.at(root, paths(List.of("var/log")), null));
        WorkResult notAList = new FileStatusCollector().run(Contexts.at(root, paths("/var/log"), null));

        assertThat(missing.reason()).isEqualTo("MissingInput");
        assertThat(missing.message()).contains("filePathInformation");
        assertThat(relative.reason()).isEqualTo("InvalidInput");
        assertThat(notAList.reason()).isEqualTo("InvalidInput");
    }
}
