package io.kdiag.api.v1;

import com.fasterxml.jackson.annotation.JsonInclude;

/** The pod (and optionally container) an abnormal is about. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PodReference {
    /** Namespace of the pod. */
    public String namespace;
    /** Name of the pod. */
    public String name;
    /** Container within the pod, if the fault is about one. */
    public String containerName;
}
