package io.kdiag.common.kubernetes;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kdiag.api.Annotations;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.AbnormalStatus;
import io.kdiag.schemas.avro.Origin;

/**
 * The one door through which Abnormal resources are written: created for abnormals that did not start as one, their
 * status replaced with what the fold says, or marked failed before they ran. A status is always written under the
 * resourceVersion just read, so a concurrent writer makes it retry rather than be overwritten, and only to the resource
 * of the same run ({@link Annotations#runUid}).
 */
public final class AbnormalResources {
    private static final int CONFLICT = 409;
    private static final int NOT_FOUND = 404;
    /** Attempts at a status write that keeps meeting concurrent writes. */
    private static final int MAX_ATTEMPTS = 5;

    private final KubernetesClient client;

    /** Resources written through {@code client}, which stays the caller's to close. */
    public AbnormalResources(KubernetesClient client) {
        this.client = client;
    }

    /** What a status write did. */
    public enum Result {
        /** The status was replaced. */
        WRITTEN,
        /** The resource already showed this status. */
        UNCHANGED,
        /** There is no resource of that name (and none was to be created). */
        NOT_FOUND,
        /** The resource of that name belongs to another run. */
        UID_MISMATCH,
        /** Concurrent writes made every attempt fail. */
        CONFLICTED
    }

    /**
     * How a status write went.
     *
     * @param result its outcome
     * @param conflicts how many attempts met a concurrent write (409) first
     */
    public record Write(Result result, int conflicts) {
    }

    /**
     * Creates the resource of an abnormal that did not start as one, annotated with the uid it runs under (so the CR
     * source does not start it again) and its origin.
     *
     * @return {@code true} if created, {@code false} if one of that name exists already
     * @throws KubernetesClientException on any other refusal
     */
    public boolean create(String namespace, String name, Map<String, String> labels, AbnormalSpec spec, String runUid, Origin origin) {
        Map<String, String> annotations = new LinkedHashMap<>();
        annotations.put(Annotations.UID, runUid);
        annotations.put(Annotations.ORIGIN, origin.name());
        Abnormal abnormal = new Abnormal();
        abnormal.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name)
                .withLabels(labels == null || labels.isEmpty() ? null : new LinkedHashMap<>(labels))
                .withAnnotations(annotations).build());
        abnormal.setSpec(spec);
        try {
            client.resource(abnormal).create();
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() == CONFLICT) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Replaces the status of the resource of run {@code runUid} with {@code status}, under the resourceVersion it read.
     * The whole status is replaced, so fields and context keys the fold removed disappear too.
     *
     * @param createMissing called when there is no resource of that name, to create it before the write is tried again;
     *     {@code null} to report {@link Result#NOT_FOUND} instead
     * @throws KubernetesClientException on a refusal other than a conflict or a missing resource
     */
    public Write writeStatus(String namespace, String name, String runUid, AbnormalStatus status, Runnable createMissing) {
        int conflicts = 0;
        boolean created = false;
        try {
            for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
                Abnormal resource = client.resources(Abnormal.class).inNamespace(namespace).withName(name).get();
                if (resource == null) {
                    if (createMissing == null || created) {
                        return new Write(Result.NOT_FOUND, conflicts);
                    }
                    createMissing.run();
                    created = true;
                    continue;
                }
                if (!runUid.equals(Annotations.runUid(resource))) {
                    return new Write(Result.UID_MISMATCH, conflicts);
                }
                if (sameStatus(resource.getStatus(), status)) {
                    return new Write(Result.UNCHANGED, conflicts);
                }
                resource.setStatus(status);
                try {
                    client.resource(resource).lockResourceVersion(resource.getMetadata().getResourceVersion()).replaceStatus();
                    return new Write(Result.WRITTEN, conflicts);
                } catch (KubernetesClientException e) {
                    if (e.getCode() != CONFLICT) {
                        throw e;
                    }
                    conflicts++;
                }
            }
            return new Write(Result.CONFLICTED, conflicts);
        } catch (KubernetesClientException e) {
            if (e.getCode() == NOT_FOUND) {
                return new Write(Result.NOT_FOUND, conflicts);
            }
            throw e;
        }
    }

    /**
     * Marks a resource that never ran {@code Failed} (its node or pod cannot be found), unless it has a phase by now.
     *
     * @return whether the status was written
     * @throws KubernetesClientException on a refusal other than a conflict or a missing resource
     */
    public boolean failUnstarted(String namespace, String name, String reason, String message) {
        try {
            for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
                Abnormal resource = client.resources(Abnormal.class).inNamespace(namespace).withName(name).get();
                if (resource == null) {
                    return false;
                }
                AbnormalStatus status = resource.getStatus() != null ? resource.getStatus() : new AbnormalStatus();
                if (status.phase != null && !status.phase.isEmpty()) {
                    return false;
                }
                status.phase = "Failed";
                status.reason = reason;
                status.message = message;
                resource.setStatus(status);
                try {
                    client.resource(resource).lockResourceVersion(resource.getMetadata().getResourceVersion()).replaceStatus();
                    return true;
                } catch (KubernetesClientException e) {
                    if (e.getCode() != CONFLICT) {
                        throw e;
                    }
                }
            }
            return false;
        } catch (KubernetesClientException e) {
            if (e.getCode() == NOT_FOUND) {
                return false;
            }
            throw e;
        }
    }

    /** Every Abnormal resource in every namespace. */
    public List<Abnormal> list() {
        return client.resources(Abnormal.class).inAnyNamespace().list().getItems();
    }

    /** Whether two statuses say the same, compared as JSON trees: the API server may order context keys differently. */
    public static boolean sameStatus(AbnormalStatus a, AbnormalStatus b) {
        if (a == null || b == null) {
            return a == b;
        }
        return Objects.equals(ApiSerialization.jsonObject(ApiSerialization.json(a)), ApiSerialization.jsonObject(ApiSerialization.json(b)));
    }
}
