package io.kdiag.api;

/** Annotations Kube Diagnoser puts on, or reads from, the objects of its API. */
public final class Annotations {
    /**
     * The uid an abnormal runs under in Kafka, on CRs the bridge created for abnormals that did not start as a CR
     * (ingest, events, alerts, logs). Its presence also tells the bridge's CR informer not to start the CR again.
     * A CR without it runs under its own {@code metadata.uid}.
     */
    public static final String UID = "kdiag.io/uid";
    /** The origin of an abnormal whose CR the bridge created ({@code IngestTopic}, {@code KubernetesEvent}, ...). */
    public static final String ORIGIN = "kdiag.io/origin";
    /**
     * On an InformationCollector, Diagnoser or Recoverer registration: {@code "true"} makes the agent call its HTTPS
     * processor without verifying the certificate or the host name, as KubeDiag v0.1.6 called every one. Off by
     * default; the agent logs a warning for each registration that sets it and counts the calls.
     */
    public static final String INSECURE_SKIP_TLS_VERIFY = "kdiag.io/insecure-skip-tls-verify";
    /**
     * On a Recoverer registration: {@code "true"} makes every recovery with it wait for a person's approval
     * ({@code kdiag approve}); as a label of an Abnormal, the same for every recovery of that abnormal.
     */
    public static final String REQUIRE_APPROVAL = "kdiag.io/require-approval";
    /**
     * On an Abnormal whose recovery waits for approval ({@code status.pendingApproval}): {@code approve} or {@code deny}.
     * The source bridge relays it as a decision of the user {@link #APPROVAL_BY} names; the admission policy
     * {@code kdiag-abnormal-approval} admits it only from that very user, and only if they may {@code approve}
     * abnormals. The bridge removes the annotations once the decision is written.
     */
    public static final String APPROVAL = "kdiag.io/approval";
    /** Who decides, with {@link #APPROVAL}: the Kubernetes user name of whoever sets it ({@code kubectl auth whoami}). */
    public static final String APPROVAL_BY = "kdiag.io/approval-by";
    /** Why, with {@link #APPROVAL}: optional, in the decider's words. */
    public static final String APPROVAL_REASON = "kdiag.io/approval-reason";
    /** On an example manifest: the phase it must end in. */
    public static final String EXPECTED_PHASE = "kdiag.io/expected-phase";

    private Annotations() {
    }

    /** The uid an Abnormal CR runs under: its {@link #UID} annotation, else its own uid. */
    public static String runUid(io.kdiag.api.v1.Abnormal abnormal) {
        var annotations = abnormal.getMetadata().getAnnotations();
        String annotated = annotations == null ? null : annotations.get(UID);
        return annotated != null ? annotated : abnormal.getMetadata().getUid();
    }
}
