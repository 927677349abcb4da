package io.kdiag.statuswriter;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.kdiag.api.Annotations;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;

/**
 * The fabric8 mock API server in CRUD mode with the generated Abnormal CRD registered, so {@code .status} is a
 * subresource as on a real cluster. It can answer the next status writes with a given error code instead.
 */
final class MockCluster implements AutoCloseable {
    private static final Path ABNORMAL_CRD = Path.of("../deploy/base/crds/abnormals.diagnosis.netease.com-v1.yml");

    final KubernetesMockServer server;
    final KubernetesClient client;
    private final AtomicInteger failingStatusWrites = new AtomicInteger();
    private volatile int failureCode;

    MockCluster() {
        KubernetesCrudDispatcher crud = new KubernetesCrudDispatcher();
        Dispatcher dispatcher = new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                boolean statusWrite = request.getMethod().equals("PUT") && request.getPath().endsWith("/status");
                if (statusWrite && failingStatusWrites.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    return new MockResponse().setResponseCode(failureCode).setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                            + "\"status\":\"Failure\",\"code\":" + failureCode + ",\"message\":\"injected\"}");
                }
                return crud.dispatch(request);
            }
        };
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
        server.init();
        client = server.createClient();
        CustomResourceDefinition crd = client.apiextensions().v1().customResourceDefinitions().load(ABNORMAL_CRD.toFile()).item();
        client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
    }

    /** Answers the next {@code count} status writes with {@code code}. */
    void failStatusWrites(int count, int code) {
        failureCode = code;
        failingStatusWrites.set(count);
    }

    /** Creates the seed's Abnormal; with a {@code runUid} it carries the {@link Annotations#UID} annotation. */
    Abnormal create(String namespace, String name, String runUid) {
        Abnormal abnormal = new Abnormal();
        abnormal.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name)
                .withAnnotations(runUid == null ? null : Map.of(Annotations.UID, runUid)).build());
        abnormal.setSpec(ApiSerialization.spec(Events.SEED_SPEC));
        return client.resource(abnormal).create();
    }

    Abnormal get(String namespace, String name) {
        return client.resources(Abnormal.class).inNamespace(namespace).withName(name).get();
    }

    @Override
    public void close() {
        client.close();
        server.destroy();
    }
}
