package io.kdiag.nodeagent.cluster;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.kdiag.api.Annotations;
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
 * field selector, so the API server sends only those; checked again here, as KubeDiag's agent did, so that a pod of
 * another node is never collected or signalled) and the processor registrations in every namespace. A registration
 * that asks for TLS without verification is logged as a warning whenever it is seen.
 */
public final class Cluster implements PodSource, Registrations, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Cluster.class);

    private final KubernetesClient client;
    private final boolean ownsClient;
    private final SharedIndexInformer<Pod> pods;
    private final Map<Stage, SharedIndexInformer<? extends CustomResource<ProcessorSpec, ?>>> processors;
    private final String nodeName;

    private Cluster(KubernetesClient client, boolean ownsClient, String nodeName) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.nodeName = nodeName;
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
        if (!"pods".equals(what)) {
            informer.addEventHandler(new ResourceEventHandler<T>() {
                @Override
                public void onAdd(T registration) {
                    warnIfInsecure(registration, what);
                }

                @Override
                public void onUpdate(T before, T after) {
                    warnIfInsecure(after, what);
                }

                @Override
                public void onDelete(T registration, boolean finalStateUnknown) {
                    // nothing to say
                }
            });
        }
        // a missing CRD or a lost connection is retried in the background; readiness reports the informer unsynced
        informer.exceptionHandler((started, error) -> {
            LOG.warn("informer error resource={} reason={}", what, error.getMessage());
            return true;
        });
        informer.start();
        return informer;
    }

    private static void warnIfInsecure(HasMetadata registration, String what) {
        if (Registrations.Registered.of(registration, null).insecureSkipTlsVerify()) {
            LOG.warn("registration skips TLS verification resource={} namespace={} name={} annotation={}: its certificate and host "
                    + "name are not checked", what, registration.getMetadata().getNamespace(), registration.getMetadata().getName(),
                    Annotations.INSECURE_SKIP_TLS_VERIFY);
        }
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
        return ofNode(pods.getStore().list(), nodeName);
    }

    /** The pods bound to {@code node}: whatever the API server sent, a pod of another node is never one of this node's. */
    static List<Pod> ofNode(List<Pod> pods, String node) {
        return pods.stream().filter(pod -> pod.getSpec() != null && node.equals(pod.getSpec().getNodeName())).toList();
    }

    @Override
    public Optional<Registered> find(Stage stage, String namespace, String name) {
        CustomResource<ProcessorSpec, ?> registered = processors.get(stage).getStore().getByKey(Cache.namespaceKeyFunc(namespace, name));
        return Optional.ofNullable(registered).map(r -> Registered.of(r, r.getSpec()));
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
