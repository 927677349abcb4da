package io.kdiag.api.v1;

import com.fasterxml.jackson.annotation.JsonInclude;

/** Whether a processor answers. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ProcessorStatus {
    /** True when the last call reached it. */
    public Boolean ready;
}
