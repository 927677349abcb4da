package io.kdiag.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewStatusBuilder;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewSpec;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewStatusBuilder;
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
 * subresource as on a real cluster. It can answer the next status writes with an error code, answer token and access
 * reviews ({@link #answerReviews}), and write a kubeconfig for components that connect on their own.
 */
public final class MockCluster implements AutoCloseable {
    private static final String TOKEN_REVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews";
    private static final String ACCESS_REVIEWS = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
    private final KubernetesMockServer server;
    private volatile Reviews reviews;
    private final KubernetesClient client;
    private final AtomicInteger failingStatusWrites = new AtomicInteger();
    private volatile int failureCode;

    /** Starts the server and registers the CRDs. */
    public MockCluster() {
        KubernetesCrudDispatcher crud = new KubernetesCrudDispatcher();
        Dispatcher dispatcher = new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                Reviews answering = reviews;
                if (answering != null && request.getMethod().equals("POST")) {
                    if (request.getPath().startsWith(TOKEN_REVIEWS)) {
                        return answering.tokenReview(request);
                    }
                    if (request.getPath().startsWith(ACCESS_REVIEWS)) {
                        return answering.accessReview(request);
                    }
                }
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

    /**
     * Answers TokenReviews and SubjectAccessReviews as an API server would: a token of {@code usersByToken}
     * authenticates as that user, any other does not; {@code allowed} decides each access review, which is kept in
     * {@link #accessReviews()}.
     */
    public void answerReviews(Map<String, UserInfo> usersByToken, Predicate<SubjectAccessReviewSpec> allowed) {
        reviews = new Reviews(Map.copyOf(usersByToken), allowed);
    }

    /** The SubjectAccessReviews asked so far, oldest first. */
    public List<SubjectAccessReview> accessReviews() {
        Reviews answering = reviews;
        return answering == null ? List.of() : List.copyOf(answering.asked);
    }

    /** The reviews' answers; what a review is read from and written as is the API's JSON. */
    private final class Reviews {
        private final Map<String, UserInfo> usersByToken;
        private final Predicate<SubjectAccessReviewSpec> allowed;
        private final List<SubjectAccessReview> asked = new CopyOnWriteArrayList<>();

        Reviews(Map<String, UserInfo> usersByToken, Predicate<SubjectAccessReviewSpec> allowed) {
            this.usersByToken = usersByToken;
            this.allowed = allowed;
        }

        MockResponse tokenReview(RecordedRequest request) {
            TokenReview review = client.getKubernetesSerialization().unmarshal(request.getBody().readUtf8(), TokenReview.class);
            UserInfo user = usersByToken.get(review.getSpec().getToken());
            review.setStatus(user == null ? new TokenReviewStatusBuilder().withAuthenticated(false).withError("invalid bearer token").build()
                    : new TokenReviewStatusBuilder().withAuthenticated(true).withUser(user).build());
            return created(review);
        }

        MockResponse accessReview(RecordedRequest request) {
            SubjectAccessReview review = client.getKubernetesSerialization().unmarshal(request.getBody().readUtf8(), SubjectAccessReview.class);
            asked.add(review);
            review.setStatus(new SubjectAccessReviewStatusBuilder().withAllowed(allowed.test(review.getSpec())).build());
            return created(review);
        }

        private MockResponse created(Object review) {
            return new MockResponse().setResponseCode(201).setHeader("Content-Type", "application/json")
                    .setBody(client.getKubernetesSerialization().asJson(review));
        }
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
