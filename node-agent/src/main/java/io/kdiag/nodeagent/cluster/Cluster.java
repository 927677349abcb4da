package io.kdiag.nodeagent.cluster;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.kdiag.api.v1.Diagnoser;
import io.kdiag.api.v1.InformationCollector;
import io.kdiag.api.v1.ProcessorSpec;
import io.kdiag.api.v1.Recoverer;
import io.kdiag.nodeagent.processors.Registrations;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.spi.PodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's view of the cluster, kept current by informers: the pods bound to this node (a {@code spec.nodeName}
 * field selector, so the API server sends only those) and the processor registrations in every namespace.
 */
public final class Cluster implements PodSource, Registrations, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Cluster.class);

    private final KubernetesClient client;
    private final boolean ownsClient;
    private final SharedIndexInformer<Pod> pods;
    private final Map<Stage, SharedIndexInformer<? extends CustomResource<ProcessorSpec, ?>>> processors;

    private Cluster(KubernetesClient client, boolean ownsClient, String nodeName) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.pods = start(client.pods().inAnyNamespace().withField("spec.nodeName", nodeName).runnableInformer(0), "pods");
        this.processors = Map.of(
                Stage.InformationCollection, start(client.resources(InformationCollector.class).inAnyNamespace().runnableInformer(0),
                        "informationcollectors"),
                Stage.Diagnosis, start(client.resources(Diagnoser.class).inAnyNamespace().runnableInformer(0), "diagnosers"),
                Stage.Recovery, start(client.resources(Recoverer.class).inAnyNamespace().runnableInformer(0), "recoverers"));
    }

    /** A view through a client this view owns and closes. */
    public static Cluster owning(KubernetesClient client, String nodeName) {
        return new Cluster(client, true, nodeName);
    }

    /** A view through a given client, which stays the caller's to close. */
    public static Cluster with(KubernetesClient client, String nodeName) {
        return new Cluster(client, false, nodeName);
    }

    private static <T extends HasMetadata> SharedIndexInformer<T> start(SharedIndexInformer<T> informer, String what) {
        // a missing CRD or a lost connection is retried in the background; readiness reports the informer unsynced
        informer.exceptionHandler((started, error) -> {
            LOG.warn("informer error resource={} reason={}", what, error.getMessage());
            return true;
        });
        informer.start();
        return informer;
    }

    /** Whether every informer has its first full list. */
    public boolean synced() {
        return pods.hasSynced() && processors.values().stream().allMatch(SharedIndexInformer::hasSynced);
    }

    @Override
    public boolean available() {
        return pods.hasSynced();
    }

    @Override
    public List<Pod> podsOnNode() {
        return pods.getStore().list();
    }

    @Override
    public Optional<ProcessorSpec> find(Stage stage, String namespace, String name) {
        CustomResource<ProcessorSpec, ?> registered = processors.get(stage).getStore().getByKey(Cache.namespaceKeyFunc(namespace, name));
        return Optional.ofNullable(registered).map(CustomResource::getSpec);
    }

    @Override
    public List<HasMetadata> list(Stage stage) {
        return List.copyOf(processors.get(stage).getStore().list());
    }

    @Override
    public void close() {
        pods.close();
        processors.values().forEach(SharedIndexInformer::close);
        if (ownsClient) {
            client.close();
        }
    }
}
