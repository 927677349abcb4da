package io.kdiag.api.v1;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A condition of an Abnormal, following the Kubernetes conventions. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AbnormalCondition {
    /** {@code InformationCollected}, {@code Identified} or {@code Recovered}. */
    public String type;
    /** {@code True}, {@code False} or {@code Unknown}. */
    public String status;
    /** When the status last changed (RFC 3339). */
    public String lastTransitionTime;
    /** CamelCase reason. */
    public String reason;
    /** Human-readable detail. */
    public String message;
}
