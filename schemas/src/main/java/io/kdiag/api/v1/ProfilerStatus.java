package io.kdiag.api.v1;

import com.fasterxml.jackson.annotation.JsonInclude;

/** Where a profiler's result is served, or why there is none. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ProfilerStatus {
    /** The profiler's name. */
    public String name;
    /** The stage it ran in. */
    public String type;
    /** URL of the result served by the agent ({@code http://<node>:8090/artifacts/...}), or {@code expired} once it was deleted. */
    public String endpoint;
    /** Why it failed. */
    public String error;
}
