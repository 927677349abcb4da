package io.kdiag.api.v1;

import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A Prometheus alert, in the shape Alertmanager's v1 API and webhooks use. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PrometheusAlert {
    /** Alert labels, {@code alertname} among them. */
    public Map<String, String> labels;
    /** Alert annotations. */
    public Map<String, String> annotations;
    /** When the alert started firing (RFC 3339). */
    public String startsAt;
    /** When the alert ended or will end (RFC 3339). */
    public String endsAt;
    /** Link to the expression that fired. */
    public String generatorURL;
}
