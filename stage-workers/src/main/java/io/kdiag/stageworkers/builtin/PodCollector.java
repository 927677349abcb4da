package io.kdiag.stageworkers.builtin;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.fabric8.kubernetes.api.model.Pod;
import io.kdiag.api.ApiSerialization;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.spi.PodSource;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;

/**
 * {@code pod-collector}: the pods bound to this node, from the agent's watch cache, into {@code podInformation} as
 * full Pod objects in their JSON form (as {@code kubectl get -o json} shows them), ordered by namespace and name.
 * Without a cluster it fails with {@code NoCluster}.
 */
public final class PodCollector implements StageWorker {
    private static final int CALL_TIMEOUT_SECONDS = 60;
    /** The context key of the output. */
    public static final String POD_INFORMATION = "podInformation";

    @Override
    public String name() {
        return "pod-collector";
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
    public WorkResult run(WorkContext ctx) {
        PodSource source = ctx.node().pods();
        if (!source.available()) {
            return WorkResult.failed("NoCluster", "pod-collector needs the Kubernetes API, and this agent runs without a cluster");
        }
        List<Object> pods = source.podsOnNode().stream()
                .sorted(Comparator.comparing((Pod p) -> p.getMetadata().getNamespace(), Comparator.nullsFirst(Comparator.naturalOrder()))
                        .thenComparing(p -> p.getMetadata().getName(), Comparator.nullsFirst(Comparator.naturalOrder())))
                .map(p -> (Object) ApiSerialization.convert(p, Map.class))
                .toList();
        return WorkResult.succeeded(Map.of(POD_INFORMATION, pods), Set.of());
    }
}
