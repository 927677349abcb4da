package io.kdiag.api.v1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.crd.generator.annotation.PreserveUnknownFields;
import io.fabric8.kubernetes.api.model.ObjectMeta;

/** What the rule last produced. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AbnormalSourceStatus {
    /**
     * The metadata of the last Abnormal this rule started: {@code name}, {@code namespace}, its uid in the
     * {@code kdiag.io/uid} annotation and {@code creationTimestamp} (when it was forwarded). An object, as in KubeDiag.
     */
    @PreserveUnknownFields
    public ObjectMeta lastAbnormal;
}
