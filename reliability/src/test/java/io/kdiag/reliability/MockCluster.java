package io.kdiag.reliability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;

/**
 * fabric8's mock API server in CRUD mode with the CRDs of deploy/base/crds registered (so the status subresource
 * behaves), and a kubeconfig pointing at it for components that connect on their own ({@code kdiag.kubernetes=on}).
 */
final class MockCluster implements AutoCloseable {
    private final KubernetesMockServer server;
    private final KubernetesClient client;
    private final Path kubeconfig;

    MockCluster(Path dir) {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init();
        client = server.createClient();
        try (Stream<Path> files = Files.list(Path.of("..", "deploy", "base", "crds"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yml")).sorted().toList()) {
                CustomResourceDefinition crd = client.apiextensions().v1().customResourceDefinitions().load(file.toFile()).item();
                client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
            }
            Files.createDirectories(dir);
            kubeconfig = dir.resolve("kubeconfig");
            Files.writeString(kubeconfig, """
                    apiVersion: v1
                    kind: Config
                    clusters: [{name: mock, cluster: {server: "%s"}}]
                    users: [{name: mock, user: {token: reliability}}]
                    contexts: [{name: mock, context: {cluster: mock, user: mock, namespace: default}}]
                    current-context: mock
                    """.formatted(server.url("/")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A client of the mock server, owned by this cluster. */
    KubernetesClient client() {
        return client;
    }

    /** A kubeconfig file for the mock server. */
    Path kubeconfig() {
        return kubeconfig;
    }

    @Override
    public void close() {
        client.close();
        server.destroy();
    }
}
