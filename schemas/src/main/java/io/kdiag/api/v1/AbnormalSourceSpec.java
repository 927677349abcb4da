package io.kdiag.api.v1;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.crd.generator.annotation.PreserveUnknownFields;

/** What to match, and the Abnormal spec to start for a match. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AbnormalSourceSpec {
    /** What to match. */
    public SourceTemplate sourceTemplate;
    /** Copied into the created Abnormal. */
    public List<NamespacedName> assignedInformationCollectors;
    /** Copied into the created Abnormal. */
    public List<NamespacedName> assignedDiagnosers;
    /** Copied into the created Abnormal. */
    public List<NamespacedName> assignedRecoverers;
    /** Copied into the created Abnormal. */
    public List<CommandExecutorSpec> commandExecutors;
    /** Copied into the created Abnormal. */
    public List<ProfilerSpec> profilers;
    /** Copied into the created Abnormal. */
    @PreserveUnknownFields
    public Map<String, Object> context;

    /** One of the templates, named by {@code type}. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class SourceTemplate {
        /** {@code KubernetesEvent} or {@code PrometheusAlert}. */
        public String type;
        /** Matches Kubernetes Events. */
        public KubernetesEventTemplate kubernetesEventTemplate;
        /** Matches Prometheus alerts. */
        public PrometheusAlertTemplate prometheusAlertTemplate;
    }

    /** Regular expressions over an Event's fields; every given one must match. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class KubernetesEventTemplate {
        /** The patterns. */
        public EventRegexp regexp;
    }

    /** Patterns over Event fields. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class EventRegexp {
        /** Event name. */
        public String name;
        /** Event namespace. */
        public String namespace;
        /** Event reason. */
        public String reason;
        /** Event message. */
        public String message;
        /** Event type ({@code Normal}, {@code Warning}). */
        public String type;
        /** Patterns over the involved object. */
        public Map<String, String> involvedObject;
        /** Patterns over the event source ({@code component}, {@code host}). */
        public Map<String, String> source;
        /** The event's {@code firstTimestamp}, as Go prints a time: {@code 2021-03-01 08:10:12 +0000 UTC}. */
        public String firstTimestamp;
        /** The event's {@code lastTimestamp}, as Go prints a time. */
        public String lastTimestamp;
        /** The event's {@code count} in decimal ({@code 0} when absent): a pattern, not a number. */
        public String count;
        /** The event's {@code action}. */
        public String action;
        /** The event's {@code reportingComponent} (the name of the field in KubeDiag's Go type). */
        public String reportingController;
        /** The event's {@code reportingInstance}. */
        public String reportingInstance;
    }

    /** Regular expressions over an alert; every given one must match. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class PrometheusAlertTemplate {
        /** The patterns. */
        public AlertRegexp regexp;
        /** The alert label that names the node. */
        public String nodeNameReferenceLabel;
    }

    /** Patterns over alert fields. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class AlertRegexp {
        /** The {@code alertname} label. */
        public String alertName;
        /** Label name to pattern; a label missing from the alert does not match. */
        public Map<String, String> labels;
        /** Annotation name to pattern; an annotation missing from the alert does not match. */
        public Map<String, String> annotations;
        /** The alert's {@code startsAt}, as Go prints a time: {@code 2021-03-01 08:10:12.123 +0000 UTC}. */
        public String startsAt;
        /** The alert's {@code endsAt}, as Go prints a time. */
        public String endsAt;
        /** The alert's {@code generatorURL}. */
        public String generatorURL;
    }
}
