package io.kdiag.sourcebridge.kubernetes;

import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kdiag.api.Annotations;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.PendingApproval;
import io.kdiag.model.ApprovalDecisions;
import io.kdiag.schemas.SendAndWait;
import io.kdiag.schemas.Topic;
import io.kdiag.schemas.avro.ApprovalDecision;
import io.kdiag.schemas.signing.SignedDecisions;
import io.kdiag.schemas.signing.SigningKey;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relays a decision given by annotation on an Abnormal ({@link Annotations#APPROVAL}, {@link Annotations#APPROVAL_BY},
 * {@link Annotations#APPROVAL_REASON}) to the agent that waits for it: a signed {@link ApprovalDecision} with
 * {@code onBehalfOf} the annotated user, for the wait {@code status.pendingApproval} names, then removes the
 * annotations so that they answer that one wait only.
 *
 * <p>The bridge vouches for a person it did not authenticate itself: the API server did, through the admission policy
 * {@code kdiag-abnormal-approval}, which admits these annotations only when {@code kdiag.io/approval-by} is the very user
 * who sets them and that user may {@code approve} abnormals. Annotations that do not say a valid decision and a user
 * are left as they are and counted as refused.
 *
 * <p>Relays on a thread of its own: a decision is written synchronously (acks from all replicas) before the
 * annotations go; a write that fails is tried again with the abnormal as it is then. A bridge that restarts between
 * the two writes the decision again, which the agent ignores (the wait has ended).
 */
public final class ApprovalRelay implements AutoCloseable {
    /** Decisions relayed, by {@code result}: relayed, refused (reason: the annotation's flaw), failed. */
    public static final String METRIC = "kdiag.bridge.approvals";
    private static final Logger LOG = LoggerFactory.getLogger(ApprovalRelay.class);
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration RETRY_AFTER = Duration.ofSeconds(5);
    private static final int REMEMBERED_WAITS = 10_000;

    private record Wait(String uid, long requestSeq) {
    }

    private final KubernetesClient client;
    private final Topic<String, ApprovalDecision> approvals;
    private final Producer<byte[], byte[]> producer;
    private final SigningKey relayKey;
    private final MeterRegistry registry;
    private final Clock clock;
    private final ScheduledExecutorService thread;
    /** Waits whose decision was written, so that a later annotation or event for them relays nothing again. */
    private final Map<Wait, Boolean> relayed = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Wait, Boolean> eldest) {
            return size() > REMEMBERED_WAITS;
        }
    };

    ApprovalRelay(KubernetesClient client, Topic<String, ApprovalDecision> approvals, Producer<byte[], byte[]> producer, SigningKey relayKey,
            MeterRegistry registry, Clock clock) {
        this.client = client;
        this.approvals = approvals;
        this.producer = producer;
        this.relayKey = relayKey;
        this.registry = registry;
        this.clock = clock;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "kdiag-bridge-approval-relay"));
        for (String result : new String[] {"relayed", "failed"}) {
            counter(result, "none");
        }
        LOG.info("approval annotations relayed key={}", relayKey.keyId());
    }

    /** A relay writing with a producer of these Kafka client settings (idempotent, acks from all replicas). */
    public static ApprovalRelay start(KubernetesClient client, Topic<String, ApprovalDecision> approvals, Map<String, Object> kafka,
            SigningKey relayKey, MeterRegistry registry) {
        Map<String, Object> settings = new HashMap<>(kafka);
        settings.put(ProducerConfig.ACKS_CONFIG, "all");
        settings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        settings.put(ProducerConfig.CLIENT_ID_CONFIG, "kdiag-bridge-approval-relay");
        return new ApprovalRelay(client, approvals, new KafkaProducer<>(settings, new ByteArraySerializer(), new ByteArraySerializer()),
                relayKey, registry, Clock.systemUTC());
    }

    /** Looks at an Abnormal as the informer delivers it; returns at once, the relay happens on the relay's thread. */
    public void consider(Abnormal abnormal) {
        Map<String, String> annotations = abnormal.getMetadata().getAnnotations();
        if (annotations == null || !annotations.containsKey(Annotations.APPROVAL)) {
            return;
        }
        thread.execute(() -> relay(abnormal));
    }

    private void relay(Abnormal abnormal) {
        String namespace = abnormal.getMetadata().getNamespace();
        String name = abnormal.getMetadata().getName();
        PendingApproval pending = abnormal.getStatus() == null ? null : abnormal.getStatus().pendingApproval;
        if (pending == null || pending.requestSeq == null || pending.nodeName == null || pending.nodeName.isBlank()) {
            // not waiting (yet, or any more): the annotation answers the next wait, if one comes
            LOG.debug("approval annotation without a wait namespace={} name={}", namespace, name);
            return;
        }
        Wait wait = new Wait(Annotations.runUid(abnormal), pending.requestSeq);
        if (!relayed.containsKey(wait)) {
            ApprovalDecision decision;
            try {
                decision = decision(wait, abnormal.getMetadata().getAnnotations());
            } catch (InvalidAnnotation e) {
                LOG.warn("approval annotation not relayed namespace={} name={} reason={}: {}", namespace, name, e.reason, e.getMessage());
                counter("refused", e.reason).increment();
                return;
            }
            try {
                SendAndWait.send(producer, SignedDecisions.record(approvals, pending.nodeName, decision, relayKey), SEND_TIMEOUT);
            } catch (ExecutionException | TimeoutException e) {
                Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
                LOG.warn("cannot write the relayed decision namespace={} name={} uid={}, trying again in {} s: {}", namespace, name, wait.uid(),
                        RETRY_AFTER.toSeconds(), cause.toString());
                counter("failed", "none").increment();
                thread.schedule(() -> retry(namespace, name), RETRY_AFTER.toMillis(), TimeUnit.MILLISECONDS);
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            relayed.put(wait, Boolean.TRUE);
            counter("relayed", "none").increment();
            LOG.info("approval relayed namespace={} name={} uid={} requestSeq={} node={} approved={} onBehalfOf={}", namespace, name, wait.uid(),
                    wait.requestSeq(), pending.nodeName, decision.getApproved(), decision.getOnBehalfOf());
        } else {
            LOG.info("approval annotation for a wait already decided, removing it namespace={} name={} uid={} requestSeq={}", namespace, name,
                    wait.uid(), wait.requestSeq());
        }
        removeAnnotations(abnormal);
    }

    private void retry(String namespace, String name) {
        try {
            Abnormal current = client.resources(Abnormal.class).inNamespace(namespace).withName(name).get();
            if (current != null) {
                consider(current);
            }
        } catch (KubernetesClientException e) {
            LOG.warn("cannot read the abnormal to relay its decision again namespace={} name={}: {}", namespace, name, e.getMessage());
            thread.schedule(() -> retry(namespace, name), RETRY_AFTER.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private ApprovalDecision decision(Wait wait, Map<String, String> annotations) throws InvalidAnnotation {
        String verdict = annotations.get(Annotations.APPROVAL).strip();
        if (!verdict.equals("approve") && !verdict.equals("deny")) {
            throw new InvalidAnnotation("InvalidDecision", Annotations.APPROVAL + " is " + ApprovalDecisions.quoted(verdict)
                    + ", not approve or deny");
        }
        String by = annotations.getOrDefault(Annotations.APPROVAL_BY, "").strip();
        if (by.isEmpty()) {
            throw new InvalidAnnotation("NoDecider", Annotations.APPROVAL_BY + " is missing: it names who decides");
        }
        if (!ApprovalDecisions.isPerson(by)) {
            throw new InvalidAnnotation("InvalidDecider", Annotations.APPROVAL_BY + " " + ApprovalDecisions.quoted(by)
                    + " is no name a relay may decide for: " + ApprovalDecisions.PERSON_RULE);
        }
        String reason = annotations.get(Annotations.APPROVAL_REASON);
        if (reason != null && reason.length() > ApprovalDecisions.MAX_REASON_CHARS) {
            throw new InvalidAnnotation("InvalidReason", Annotations.APPROVAL_REASON + " has more than " + ApprovalDecisions.MAX_REASON_CHARS + " characters");
        }
        return new ApprovalDecision(wait.uid(), wait.requestSeq(), verdict.equals("approve"), clock.instant(),
                reason == null || reason.isBlank() ? null : reason.strip(), by);
    }

    /** Removes the three annotations from the object as it was seen; a newer object comes back through the informer. */
    private void removeAnnotations(Abnormal seen) {
        Abnormal changed = client.getKubernetesSerialization().clone(seen);
        Map<String, String> annotations = new LinkedHashMap<>(seen.getMetadata().getAnnotations());
        annotations.remove(Annotations.APPROVAL);
        annotations.remove(Annotations.APPROVAL_BY);
        annotations.remove(Annotations.APPROVAL_REASON);
        changed.getMetadata().setAnnotations(annotations);
        try {
            client.resource(changed).lockResourceVersion(seen.getMetadata().getResourceVersion()).update();
        } catch (KubernetesClientException e) {
            // 409: changed meanwhile, the informer delivers the newer object; 404: deleted, nothing to remove
            LOG.info("approval annotations not removed namespace={} name={} code={}: {}", seen.getMetadata().getNamespace(),
                    seen.getMetadata().getName(), e.getCode(), e.getMessage());
        }
    }

    private Counter counter(String result, String reason) {
        return Counter.builder(METRIC).description("Approval decisions given by annotation, by result").tag("result", result)
                .tag("reason", reason).register(registry);
    }

    /** Stops relaying; a decision being written is given its send timeout. */
    @Override
    public void close() {
        thread.shutdown();
        try {
            thread.awaitTermination(SEND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        thread.shutdownNow();
        producer.close(Duration.ofSeconds(5));
    }

    private static final class InvalidAnnotation extends Exception {
        private final String reason;

        InvalidAnnotation(String reason, String message) {
            super(message);
            this.reason = reason;
        }
    }
}
