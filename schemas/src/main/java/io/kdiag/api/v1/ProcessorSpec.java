package io.kdiag.api.v1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.IntOrString;

/**
 * Where a processor (InformationCollector, Diagnoser or Recoverer) listens. Without {@code externalIP} and
 * {@code externalPort} it is a built-in of the node agent. The agent POSTs the whole Abnormal as JSON to
 * {@code scheme://host:port/path} and expects 200 with the Abnormal back.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ProcessorSpec {
    /** Address of a remote processor (KubeDiag v0.1.6); set together with {@code externalPort}. */
    public String externalIP;
    /** Port of a remote processor (KubeDiag v0.1.6). */
    public Integer externalPort;
    /** Address of a remote processor (KubeDiag v0.1.0-v0.1.5). */
    public String ip;
    /** Port of a remote processor (KubeDiag v0.1.0-v0.1.5), a number or a numeric string. */
    public IntOrString port;
    /** Request path. */
    public String path;
    /** {@code http} (the default) or {@code https}. */
    public String scheme;
    /** Seconds before the call is abandoned; default 30. */
    public Integer timeoutSeconds;
}
