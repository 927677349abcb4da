package io.kdiag.api.v1;

import com.fasterxml.jackson.annotation.JsonInclude;

/** What the rule last produced. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AbnormalSourceStatus {
    /** Name of the last Abnormal this rule started. */
    public String lastAbnormal;
}
