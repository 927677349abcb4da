package io.kdiag.api;

/** Annotations and labels Kube Diagnoser puts on Abnormal CRs. */
public final class Annotations {
    /**
     * The uid an abnormal runs under in Kafka, on CRs the bridge created for abnormals that did not start as a CR
     * (ingest, events, alerts, logs). Its presence also tells the bridge's CR informer not to start the CR again.
     * A CR without it runs under its own {@code metadata.uid}.
     */
    public static final String UID = "kdiag.io/uid";
    /** The origin of an abnormal whose CR the bridge created ({@code IngestTopic}, {@code KubernetesEvent}, ...). */
    public static final String ORIGIN = "kdiag.io/origin";
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
