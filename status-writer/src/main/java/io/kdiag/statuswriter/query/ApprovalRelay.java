package io.kdiag.statuswriter.query;

import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.model.ApprovalDecisions;
import io.kdiag.model.StatusFold;
import io.kdiag.schemas.SendAndWait;
import io.kdiag.schemas.Topic;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.ApprovalDecision;
import io.kdiag.schemas.signing.SignedDecisions;
import io.kdiag.schemas.signing.SigningKey;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Approves or denies, over HTTP, on behalf of a Kubernetes user: the caller's bearer token is authenticated by a
 * {@code TokenReview}, the user it names must be allowed the verb {@value #VERB} on the abnormal
 * ({@code SubjectAccessReview}), and only then the decision is written to the approvals topic, signed with the status
 * writer's relay key and naming that user in {@code onBehalfOf}. The agent credits it to {@code "USER via RELAY"},
 * RELAY being the name of the file of this key's public half among its {@code kdiag.approval-relay-keys}.
 *
 * <p>The token is sent to the API server only, and never logged or answered back.
 */
public final class ApprovalRelay {
    private static final Logger LOG = LoggerFactory.getLogger(ApprovalRelay.class);
    /** The verb a user needs on {@code abnormals.diagnosis.netease.com}; no built-in role has it. */
    public static final String VERB = "approve";
    private static final String GROUP = HasMetadata.getGroup(Abnormal.class);
    private static final String RESOURCE = "abnormals";
    /** How long the broker may take to acknowledge a decision. */
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(10);

    /** What to answer: an HTTP status and a JSON object ({@code reason} and {@code message} for an error). */
    public record Answer(int status, Map<String, Object> body) {
        static Answer error(int status, String reason, String message) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("reason", reason);
            body.put("message", message);
            return new Answer(status, body);
        }
    }

    private final KubernetesClient kubernetes;
    private final SigningKey relayKey;
    private final Topic<String, ApprovalDecision> approvals;
    private final Producer<byte[], byte[]> producer;
    private final Clock clock;
    private final String off;

    private ApprovalRelay(KubernetesClient kubernetes, SigningKey relayKey, Topic<String, ApprovalDecision> approvals,
            Producer<byte[], byte[]> producer, Clock clock, String off) {
        this.kubernetes = kubernetes;
        this.relayKey = relayKey;
        this.approvals = approvals;
        this.producer = producer;
        this.clock = clock;
        this.off = off;
    }

    /**
     * A relay that authenticates with {@code kubernetes} and writes with {@code producer} (idempotent, acks=all, not
     * transactional: a decision is acknowledged on its own, outside the fold's transactions).
     */
    public static ApprovalRelay on(KubernetesClient kubernetes, SigningKey relayKey, Topic<String, ApprovalDecision> approvals,
            Producer<byte[], byte[]> producer, Clock clock) {
        return new ApprovalRelay(kubernetes, relayKey, approvals, producer, clock, null);
    }

    /** A relay that answers every call {@code 501} with {@code why}. */
    public static ApprovalRelay off(String why) {
        return new ApprovalRelay(null, null, null, null, null, why);
    }

    /** Whether it writes decisions at all. */
    public boolean isOn() {
        return off == null;
    }

    /**
     * Decides for the holder of {@code token} on the newest abnormal of this namespace and name.
     *
     * @param token the bearer token of the request, {@code null} when it had none
     * @param reason why, in the person's words; may be {@code null}
     * @throws org.apache.kafka.streams.errors.InvalidStateStoreException while the stores cannot be queried
     */
    Answer decide(String token, String namespace, String name, boolean approved, String reason, StatusQueries queries) {
        String verb = approved ? "approve" : "deny";
        if (off != null) {
            return Answer.error(501, "ApprovalRelayOff", "this status writer does not relay approvals: " + off);
        }
        if (token == null || token.isBlank()) {
            return refused(401, "Unauthorized", namespace, name, verb, null,
                    "send a Kubernetes bearer token: Authorization: Bearer TOKEN (e.g. kubectl create token NAME)");
        }
        UserInfo user;
        try {
            TokenReview review = kubernetes.authentication().v1().tokenReviews().create(new TokenReviewBuilder()
                    .withNewSpec().withToken(token).endSpec().build());
            if (review.getStatus() == null || !Boolean.TRUE.equals(review.getStatus().getAuthenticated())
                    || review.getStatus().getUser() == null) {
                String error = review.getStatus() == null ? null : review.getStatus().getError();
                return refused(401, "Unauthorized", namespace, name, verb, null, "the Kubernetes API server did not authenticate the token"
                        + (error == null || error.isBlank() ? "" : ": " + error));
            }
            user = review.getStatus().getUser();
        } catch (KubernetesClientException e) {
            return unavailable("TokenReview", namespace, name, e);
        }
        String username = user.getUsername();
        if (!ApprovalDecisions.isPerson(username)) {
            return refused(403, "Forbidden", namespace, name, verb, null, "the user name " + ApprovalDecisions.quoted(username)
                    + " cannot be relayed to the agents: " + ApprovalDecisions.PERSON_RULE);
        }
        try {
            SubjectAccessReview access = kubernetes.authorization().v1().subjectAccessReview().create(new SubjectAccessReviewBuilder()
                    .withNewSpec().withUser(username).withGroups(user.getGroups()).withUid(user.getUid()).withExtra(user.getExtra())
                    .withNewResourceAttributes().withGroup(GROUP).withResource(RESOURCE).withVerb(VERB).withNamespace(namespace)
                    .withName(name).endResourceAttributes().endSpec().build());
            if (access.getStatus() == null || !Boolean.TRUE.equals(access.getStatus().getAllowed())) {
                return refused(403, "Forbidden", namespace, name, verb, username, "user " + username + " may not " + verb + " abnormal "
                        + namespace + "/" + name + ": it needs the verb " + VERB + " on " + RESOURCE + "." + GROUP
                        + " in namespace " + namespace + " (the ClusterRole kdiag-approver grants it)");
            }
        } catch (KubernetesClientException e) {
            return unavailable("SubjectAccessReview", namespace, name, e);
        }
        Optional<AbnormalStatus> newest = queries.newest(namespace, name);
        if (newest.isEmpty()) {
            return refused(404, "NotFound", namespace, name, verb, username, "abnormal " + namespace + "/" + name
                    + " not found (this status writer holds no status of that name)");
        }
        AbnormalStatus waiting = newest.get();
        if (!StatusFold.waitsForApproval(waiting)) {
            return refused(409, "NotWaitingForApproval", namespace, name, verb, username, "abnormal " + namespace + "/" + name
                    + " (uid " + waiting.getUid() + ") does not wait for approval: it is " + waiting.getPhase());
        }
        ApprovalDecision decision = ApprovalDecisions.answer(waiting, approved, reason, username, clock.instant());
        RecordMetadata written;
        try {
            written = SendAndWait.send(producer, SignedDecisions.record(approvals, waiting.getNodeName(), decision, relayKey), SEND_TIMEOUT);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            LOG.warn("approval not relayed uid={} namespace={} name={} user={} reason={}", waiting.getUid(), namespace, name, username,
                    String.valueOf(cause));
            return Answer.error(503, "NotWritten", "the decision was not written to " + approvals.name() + ": " + cause.getMessage()
                    + "; retry");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Answer.error(503, "NotWritten", "interrupted while writing the decision; retry");
        }
        LOG.info("approval relayed uid={} namespace={} name={} node={} approved={} user={} request-seq={} partition={} offset={}",
                waiting.getUid(), namespace, name, waiting.getNodeName(), approved, username, decision.getRequestSeq(),
                written.partition(), written.offset());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("namespace", namespace);
        body.put("name", name);
        body.put("uid", waiting.getUid());
        body.put("nodeName", waiting.getNodeName());
        body.put("approved", approved);
        body.put("onBehalfOf", username);
        body.put("requestSeq", decision.getRequestSeq());
        body.put("reason", reason);
        body.put("topic", approvals.name());
        body.put("partition", written.partition());
        body.put("offset", written.offset());
        body.put("message", "decision written; the agent of node " + waiting.getNodeName() + " acts on it and the status shows it");
        return new Answer(202, body);
    }

    private static Answer refused(int status, String reason, String namespace, String name, String verb, String user, String message) {
        LOG.info("approval refused status={} namespace={} name={} verb={} user={} reason={}", status, namespace, name, verb,
                user == null ? "-" : user, reason);
        return Answer.error(status, reason, message);
    }

    /** The API server could not be asked: neither yes nor no, so the caller may retry. */
    private static Answer unavailable(String review, String namespace, String name, KubernetesClientException e) {
        LOG.warn("approval not checked review={} namespace={} name={} code={} reason={}", review, namespace, name, e.getCode(),
                e.getStatus() == null ? e.getClass().getSimpleName() : e.getStatus().getMessage());
        return Answer.error(503, "AuthenticationUnavailable", "the Kubernetes API server did not answer the " + review
                + " (HTTP " + e.getCode() + "); retry, or check that the status writer may create tokenreviews and subjectaccessreviews");
    }
}
