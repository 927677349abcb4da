package io.kdiag.sourcebridge.kubernetes;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.kdiag.api.Annotations;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.common.kubernetes.AbnormalResources;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.sourcebridge.gate.BridgeMetrics;
import io.kdiag.sourcebridge.gate.Gate;
import io.kdiag.sourcebridge.gate.Submission;
import io.kdiag.sourcebridge.gate.Verdict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Abnormal CR source: every Abnormal, in every namespace, that has no {@code status.phase} and no
 * {@link Annotations#UID} annotation (the bridge's own mirrors) becomes a request under its {@code metadata.uid}, keyed
 * by node. A {@code podReference} without {@code nodeName} is resolved to the pod's node; an Abnormal with neither gets
 * status {@code Failed} with reason {@code NodeNotFound} or {@code PodNotFound}. Relists and restarts are harmless: the
 * gate remembers every uid it forwarded.
 */
public final class AbnormalInformer implements AutoCloseable {
    static final String SOURCE = BridgeMetrics.SOURCE_CUSTOM_RESOURCE;
    private static final Logger LOG = LoggerFactory.getLogger(AbnormalInformer.class);

    private final KubernetesClient client;
    private final AbnormalResources resources;
    private final Gate gate;
    private final PodNodes pods;
    private final Executor followUps;
    private final Optional<ApprovalRelay> approvals;
    private SharedIndexInformer<Abnormal> informer;

    /**
     * A source submitting the new Abnormals of {@code client}'s cluster to {@code gate}; {@code followUps} runs what
     * follows a verdict; {@code approvals}, if present, sees every Abnormal, started or not, for its approval annotations.
     */
    public AbnormalInformer(KubernetesClient client, Gate gate, Executor followUps, Optional<ApprovalRelay> approvals) {
        this.client = client;
        this.resources = new AbnormalResources(client);
        this.gate = gate;
        this.pods = new PodNodes(client);
        this.followUps = followUps;
        this.approvals = approvals;
    }

    /** Starts watching; returns once the first list has been delivered. */
    public AbnormalInformer start() {
        informer = client.resources(Abnormal.class).inAnyNamespace().inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Abnormal abnormal) {
                approvals.ifPresent(relay -> relay.consider(abnormal));
                consider(abnormal);
            }

            @Override
            public void onUpdate(Abnormal before, Abnormal after) {
                approvals.ifPresent(relay -> relay.consider(after));
                consider(after);
            }

            @Override
            public void onDelete(Abnormal abnormal, boolean finalStateUnknown) {
                // a deleted Abnormal that already runs keeps running; one that did not never starts
            }
        });
        return this;
    }

    /** Turns a new Abnormal into a submission, or marks it Failed when it names no node that can be found. */
    void consider(Abnormal abnormal) {
        Map<String, String> annotations = abnormal.getMetadata().getAnnotations();
        if (annotations != null && annotations.containsKey(Annotations.UID)) {
            return;
        }
        if (abnormal.getStatus() != null && abnormal.getStatus().phase != null && !abnormal.getStatus().phase.isEmpty()) {
            return;
        }
        AbnormalSpec spec = abnormal.getSpec() != null ? abnormal.getSpec() : new AbnormalSpec();
        String namespace = abnormal.getMetadata().getNamespace();
        String node = spec.nodeName;
        if (node == null || node.isBlank()) {
            if (spec.podReference == null || spec.podReference.name == null || spec.podReference.name.isBlank()) {
                fail(abnormal, "NodeNotFound", "spec.nodeName is empty and there is no spec.podReference to find the node from");
                return;
            }
            String podNamespace = spec.podReference.namespace != null && !spec.podReference.namespace.isBlank()
                    ? spec.podReference.namespace : namespace;
            try {
                node = pods.nodeOf(podNamespace, spec.podReference.name);
                if (node == null) {
                    fail(abnormal, "PodNotFound", pods.exists(podNamespace, spec.podReference.name)
                            ? "pod " + podNamespace + "/" + spec.podReference.name + " is not scheduled to a node yet"
                            : "pod " + podNamespace + "/" + spec.podReference.name + " of spec.podReference does not exist");
                    return;
                }
            } catch (KubernetesClientException e) {
                // the informer delivers it again on its next relist; nothing was forwarded
                LOG.warn("cannot look up the pod of namespace={} name={}: {}", namespace, abnormal.getMetadata().getName(), e.getMessage());
                return;
            }
        }
        AbnormalRequest request = AbnormalRequest.newBuilder()
                .setUid(abnormal.getMetadata().getUid())
                .setNamespace(namespace)
                .setName(abnormal.getMetadata().getName())
                .setNodeName(node)
                .setOrigin(Origin.CustomResource)
                .setRequestedAt(requestedAt(abnormal))
                .setSpec(ApiSerialization.json(spec))
                .setLabels(abnormal.getMetadata().getLabels() == null ? Map.of() : abnormal.getMetadata().getLabels())
                .build();
        CompletableFuture<Verdict> verdict = gate.submit(new Submission(SOURCE, request, null, false, false));
        verdict.thenAcceptAsync(v -> {
            if (v.outcome() == Verdict.Outcome.REFUSED) {
                fail(abnormal, v.reason(), v.message());
            }
        }, followUps).exceptionally(e -> {
            LOG.warn("the Abnormal was not forwarded namespace={} name={}: {}", namespace, abnormal.getMetadata().getName(), e.toString());
            return null;
        });
    }

    private static Instant requestedAt(Abnormal abnormal) {
        String created = abnormal.getMetadata().getCreationTimestamp();
        try {
            return created == null ? Instant.now() : Instant.parse(created);
        } catch (RuntimeException e) {
            return Instant.now();
        }
    }

    private void fail(Abnormal abnormal, String reason, String message) {
        String namespace = abnormal.getMetadata().getNamespace();
        String name = abnormal.getMetadata().getName();
        LOG.info("marking the Abnormal failed namespace={} name={} reason={} message={}", namespace, name, reason, message);
        try {
            resources.failUnstarted(namespace, name, reason, message);
        } catch (KubernetesClientException e) {
            LOG.warn("cannot write the status of namespace={} name={}: {}", namespace, name, e.getMessage());
        }
    }

    @Override
    public void close() {
        if (informer != null) {
            informer.close();
        }
    }
}
