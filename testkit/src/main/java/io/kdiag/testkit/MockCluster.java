package io.kdiag.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

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
 * fabric8's mock API server in CRUD mode with every CRD of {@code deploy/base/crds} registered, so {@code .status} is a
 * subresource as on a real cluster. It can answer the next status writes with an error code, and write a kubeconfig
 * for components that connect on their own.
 */
public final class MockCluster implements AutoCloseable {
    private final KubernetesMockServer server;
    private final KubernetesClient client;
    private final AtomicInteger failingStatusWrites = new AtomicInteger();
    private volatile int failureCode;

    /** Starts the server and registers the CRDs. */
    public MockCluster() {
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
        try (Stream<Path> files = Files.list(crdFolder())) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yml")).sorted().toList()) {
                CustomResourceDefinition crd = client.apiextensions().v1().customResourceDefinitions().load(file.toFile()).item();
                client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
            }
        } catch (IOException e) {
            close();
            throw new UncheckedIOException(e);
        }
    }

    /** The generated CRDs, found from the module folder a test runs in. */
    private static Path crdFolder() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path crds = dir.resolve("deploy").resolve("base").resolve("crds");
            if (Files.isDirectory(crds)) {
                return crds;
            }
        }
        throw new IllegalStateException("deploy/base/crds not found above " + Path.of("").toAbsolutePath());
    }

    /** A client of the server, owned by this cluster. */
    public KubernetesClient client() {
        return client;
    }

    /** Answers the next {@code count} status writes with {@code code}. */
    public void failStatusWrites(int count, int code) {
        failureCode = code;
        failingStatusWrites.set(count);
    }

    /** Creates an Abnormal with the seed's spec; with a {@code runUid} it carries the {@link Annotations#UID} annotation. */
    public Abnormal createAbnormal(String namespace, String name, String runUid) {
        Abnormal abnormal = new Abnormal();
        abnormal.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name)
                .withAnnotations(runUid == null ? null : Map.of(Annotations.UID, runUid)).build());
        abnormal.setSpec(ApiSerialization.spec(Events.SEED_SPEC));
        return client.resource(abnormal).create();
    }

    /** The Abnormal of that name, or null. */
    public Abnormal abnormal(String namespace, String name) {
        return client.resources(Abnormal.class).inNamespace(namespace).withName(name).get();
    }

    /** Writes a kubeconfig for the server into {@code dir} and returns its path. */
    public Path writeKubeconfig(Path dir) {
        try {
            Files.createDirectories(dir);
            Path kubeconfig = dir.resolve("kubeconfig");
            Files.writeString(kubeconfig, """
                    apiVersion: v1
                    kind: Config
                    clusters: [{name: mock, cluster: {server: "%s"}}]
                    users: [{name: mock, user: {token: test}}]
                    contexts: [{name: mock, context: {cluster: mock, user: mock, namespace: default}}]
                    current-context: mock
                    """.formatted(server.url("/")));
            return kubeconfig;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        client.close();
        server.destroy();
    }
}
