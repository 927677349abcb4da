package io.kdiag.stageworkers.builtin;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code pod-disk-usage-diagnoser}: the pods of {@code podInformation} (from pod-collector) bound to this node that use
 * the most disk under {@code /var/lib/kubelet/pods/<uid>} (volumes, including emptyDir, and container logs links),
 * counted at low priority ({@code nice -n 19 ionice -c 3 du -s -B 1}, 60 s each); a directory du cannot count uses 0, as in the
 * original. Output {@code podDiskUsageDiagnosis = [{metadata, diskUsage, path}]}, the 10 largest first, with the
 * host path; {@code podInformation} is removed.
 */
public final class PodDiskUsageDiagnoser implements StageWorker {
    private static final int CALL_TIMEOUT_SECONDS = 300;
    /** The context key of the output. */
    public static final String POD_DISK_USAGE_DIAGNOSIS = "podDiskUsageDiagnosis";
    static final String KUBELET_PODS = "/var/lib/kubelet/pods/";
    private static final int TOP = 10;
    private static final Logger LOG = LoggerFactory.getLogger(PodDiskUsageDiagnoser.class);

    private final DiskUsage diskUsage;

    /** The diagnoser, as the service loader creates it. */
    public PodDiskUsageDiagnoser() {
        this(DiskUsage.system());
    }

    PodDiskUsageDiagnoser(DiskUsage diskUsage) {
        this.diskUsage = diskUsage;
    }

    @Override
    public String name() {
        return "pod-disk-usage-diagnoser";
    }

    @Override
    public Stage stage() {
        return Stage.Diagnosis;
    }

    /** {@value #CALL_TIMEOUT_SECONDS} s, the timeoutSeconds of KubeDiag v0.1.6's registration of this built-in. */
    @Override
    public Duration timeout() {
        return Duration.ofSeconds(CALL_TIMEOUT_SECONDS);
    }

    @Override
    public WorkResult run(WorkContext ctx) throws InterruptedException {
        List<Map<String, Object>> usages = new ArrayList<>();
        try {
            for (Object p : Inputs.list(Inputs.required(ctx, PodCollector.POD_INFORMATION), PodCollector.POD_INFORMATION)) {
                Map<?, ?> pod = Inputs.map(p, PodCollector.POD_INFORMATION + " entry");
                if (!Inputs.onNode(pod, ctx.nodeName())) {
                    continue;
                }
                Map<?, ?> metadata = Inputs.map(pod.get("metadata"), PodCollector.POD_INFORMATION + " entry metadata");
                if (!(metadata.get("uid") instanceof String uid) || !uid.matches("[0-9A-Za-z-]+")) {
                    return WorkResult.failed("InvalidInput", "pod " + metadata.get("namespace") + "/" + metadata.get("name")
                            + " has no valid metadata.uid: " + metadata.get("uid"));
                }
                if (!Files.isDirectory(ctx.host().resolve(KUBELET_PODS))) {
                    // a host without the kubelet's pods (not mounted, or no host at all, as in a re-diagnosis) would
                    // count every pod as 0
                    return WorkResult.failed("MissingInput", "missing input: the host path " + KUBELET_PODS + " is not there");
                }
                String path = KUBELET_PODS + uid;
                DiskUsage.Usage usage = diskUsage.total(ctx.host().resolve(path));
                if (usage.error() != null) {
                    LOG.warn("disk usage of pod counted as 0 pod={}/{} error={}", metadata.get("namespace"), metadata.get("name"), usage.error());
                }
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("metadata", metadata);
                entry.put("diskUsage", usage.bytes());
                entry.put("path", path);
                usages.add(entry);
            }
        } catch (Inputs.InputException e) {
            return WorkResult.failed(e.reason(), e.getMessage());
        }
        usages.sort(Comparator.comparingLong((Map<String, Object> e) -> (Long) e.get("diskUsage")).reversed());
        List<Map<String, Object>> top = new ArrayList<>(usages.subList(0, Math.min(TOP, usages.size())));
        return WorkResult.succeeded(Map.of(POD_DISK_USAGE_DIAGNOSIS, top), Set.of(PodCollector.POD_INFORMATION));
    }
}
