package io.kdiag.sourcebridge.kubernetes;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kdiag.api.Annotations;
import io.kdiag.api.ApiSerialization;
import io.kdiag.common.kubernetes.AbnormalResources;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.sourcebridge.gate.BridgeMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates an Abnormal CR for each forwarded abnormal that did not start as one, so {@code kubectl get abnormals} shows
 * every diagnosis. The CR carries {@link Annotations#UID} (the uid it runs under, which also keeps the CR informer from
 * starting it again) and {@link Annotations#ORIGIN}. It is a view: the diagnosis runs whether or not it can be created.
 */
public final class CrMirror implements Consumer<AbnormalRequest>, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CrMirror.class);
    private final AbnormalResources resources;
    private final MeterRegistry registry;
    // the gate thread must never wait for the API server
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> new Thread(r, "kdiag-cr-mirror"));

    /** A mirror creating CRs through {@code client}, counting them in {@code registry}. */
    public CrMirror(KubernetesClient client, MeterRegistry registry) {
        this.resources = new AbnormalResources(client);
        this.registry = registry;
    }

    /** Creates the CR of a committed request, later, on the mirror's own thread. */
    @Override
    public void accept(AbnormalRequest request) {
        executor.execute(() -> create(request));
    }

    private void create(AbnormalRequest request) {
        String result;
        try {
            result = resources.create(request.getNamespace(), request.getName(), request.getLabels(),
                    ApiSerialization.spec(request.getSpec()), request.getUid(), request.getOrigin()) ? "created" : "exists";
        } catch (KubernetesClientException e) {
            result = "failed";
            LOG.warn("cannot create the Abnormal CR namespace={} name={} uid={} code={}: {}", request.getNamespace(),
                    request.getName(), request.getUid(), e.getCode(), e.getMessage());
        }
        registry.counter(BridgeMetrics.MIRRORED, "result", result).increment();
    }

    /** Finishes the CRs in hand (up to ten seconds) and stops. */
    @Override
    public void close() {
        executor.shutdown();
        try {
            executor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
