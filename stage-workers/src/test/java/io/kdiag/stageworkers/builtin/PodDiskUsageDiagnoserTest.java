package io.kdiag.stageworkers.builtin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.kdiag.stageworkers.spi.WorkResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PodDiskUsageDiagnoserTest {
    @TempDir
    Path root;

    private static Map<String, Object> pod(String name, String uid) {
        return pod(name, uid, Contexts.NODE);
    }

    private static Map<String, Object> pod(String name, String uid, String node) {
        return Contexts.object("apiVersion", "v1", "kind", "Pod",
                "metadata", Contexts.object("name", name, "namespace", "default", "uid", uid, "labels", Map.of("app", name)),
                "spec", Map.of("nodeName", node));
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> diagnosis(WorkResult result) {
        assertThat(result.succeeded()).as(result.toString()).isTrue();
        return (List<Map<String, Object>>) result.contextUpdates().get("podDiskUsageDiagnosis");
    }

    private void kubeletTree() throws Exception {
        DiskFixtures.file(root, "/var/lib/kubelet/pods/uid-small/volumes/kubernetes.io~secret/token/token", 2_000);
        DiskFixtures.file(root, "/var/lib/kubelet/pods/uid-big/volumes/kubernetes.io~empty-dir/data/a", 400_000);
        DiskFixtures.file(root, "/var/lib/kubelet/pods/uid-big/volumes/kubernetes.io~empty-dir/data/b", 100_000);
        DiskFixtures.file(root, "/var/lib/kubelet/pods/uid-mid/etc-hosts", 90_000);
    }

    private static final List<Object> PODS = List.of(pod("small", "uid-small"), pod("big", "uid-big"), pod("mid", "uid-mid"),
            pod("gone", "uid-gone"));

    private void checkOrder(WorkResult result) {
        List<Map<String, Object>> diagnosis = diagnosis(result);
        assertThat(diagnosis).extracting(d -> (Object) ((Map<?, ?>) d.get("metadata")).get("name")).containsExactly("big", "mid", "small", "gone");
        assertThat(diagnosis.get(0)).containsOnlyKeys("metadata", "diskUsage", "path")
                .containsEntry("metadata", ((Map<?, ?>) PODS.get(1)).get("metadata"))
                .containsEntry("path", "/var/lib/kubelet/pods/uid-big");
        assertThat((Long) diagnosis.get(0).get("diskUsage")).isGreaterThanOrEqualTo(500_000);
        assertThat((Long) diagnosis.get(1).get("diskUsage")).isGreaterThanOrEqualTo(90_000).isLessThan((Long) diagnosis.get(0).get("diskUsage"));
        assertThat((Long) diagnosis.get(2).get("diskUsage")).isGreaterThanOrEqualTo(2_000);
        // a directory du cannot count (here: missing) uses 0, as in the original
        assertThat(diagnosis.get(3)).containsEntry("diskUsage", 0L);
        assertThat(result.removedKeys()).containsExactly("podInformation");
    }

    @Test
    void shouldCountOnlyThePodsOfThisNode() throws Exception {
        kubeletTree();
        List<Object> pods = List.of(pod("big", "uid-big"), pod("elsewhere", "uid-mid", "node-9"));

        assertThat(diagnosis(new PodDiskUsageDiagnoser().run(Contexts.at(root, null, Map.of("podInformation", pods)))))
                .extracting(d -> (Object) ((Map<?, ?>) d.get("metadata")).get("name")).containsExactly("big");
    }

    @Test
    void shouldOrderThePodsByTheDiskUsageDuCounts() throws Exception {
        kubeletTree();

        checkOrder(new PodDiskUsageDiagnoser().run(Contexts.at(root, null, Map.of("podInformation", PODS))));
    }

    @Test
    void shouldOrderThePodsByAJavaWalkWithoutDu() throws Exception {
        kubeletTree();

        checkOrder(new PodDiskUsageDiagnoser(new DiskUsage(null, false, false, false))
                .run(Contexts.at(root, null, Map.of("podInformation", PODS))));
    }

    @Test
    void shouldRunDuAtLowPriorityKeepTheTenLargestAndCountATimeoutAsZero() throws Exception {
        List<Object> pods = new ArrayList<>();
        for (int i = 1; i <= 12; i++) {
            pods.add(pod("p" + i, "uid-" + i));
        }
        Contexts.FakeRunner runner = new Contexts.FakeRunner(c -> {
            String dir = c.get(c.size() - 1);
            int n = Integer.parseInt(dir.substring(dir.lastIndexOf('-') + 1));
            return n == 12 ? Contexts.timedOut(c, 60) : Contexts.ok(c, n * 1000 + "\t" + dir + "\n");
        });
        Files.createDirectories(root.resolve("var/lib/kubelet/pods"));

        List<Map<String, Object>> diagnosis = diagnosis(new PodDiskUsageDiagnoser(new DiskUsage(runner, true, true, true))
                .run(Contexts.at(root, Map.of("podInformation", pods), null)));

        assertThat(runner.commands.get(0)).containsExactly("nice", "-n", "19", "ionice", "-c", "3", "du", "-B", "1", "-s",
                root.resolve("var/lib/kubelet/pods/uid-1").toString());
        assertThat(diagnosis).extracting(d -> d.get("diskUsage"))
                .containsExactly(11_000L, 10_000L, 9_000L, 8_000L, 7_000L, 6_000L, 5_000L, 4_000L, 3_000L, 2_000L);
    }

    @Test
    void shouldSucceedWithAnEmptyDiagnosisForNoPods() throws Exception {
        WorkResult result = new PodDiskUsageDiagnoser().run(Contexts.at(root, null, Map.of("podInformation", List.of())));

        assertThat(diagnosis(result)).isEmpty();
    }

    @Test
    void shouldRefuseMissingInputAndAPodWithoutAUsableUid() throws Exception {
        WorkResult missing = new PodDiskUsageDiagnoser().run(Contexts.at(root, null, null));
        WorkResult noUid = new PodDiskUsageDiagnoser().run(Contexts.at(root, null,
                Map.of("podInformation", List.of(Map.of("metadata", Map.of("name", "x"), "spec", Map.of("nodeName", Contexts.NODE))))));
        WorkResult escaping = new PodDiskUsageDiagnoser().run(Contexts.at(root, null,
                Map.of("podInformation", List.of(pod("evil", "../../../etc")))));

        assertThat(missing.reason()).isEqualTo("MissingInput");
        assertThat(missing.message()).contains("podInformation");
        // a host without the kubelet's pods: nothing to count, rather than every pod counted as 0
        WorkResult noHost = new PodDiskUsageDiagnoser().run(Contexts.at(root, null, Map.of("podInformation", PODS)));
        assertThat(noHost.reason()).isEqualTo("MissingInput");
        assertThat(noHost.message()).contains("/var/lib/kubelet/pods/");
        assertThat(noUid.reason()).isEqualTo("InvalidInput");
        assertThat(escaping.reason()).isEqualTo("InvalidInput");
    }
}
