package io.kdiag.api.v1;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.crd.generator.annotation.PreserveUnknownFields;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.generator.annotation.ValidationRule;

/** What to diagnose, where, and with which processors. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "has(self.nodeName) || has(self.podReference)", message = "either nodeName or podReference is required")
public class AbnormalSpec {
    /** Where the fault came from: {@code Custom} (the default), {@code KubernetesEvent}, {@code PrometheusAlert} or {@code Log}. */
    public String source;
    /** The alert, when {@code source} is {@code PrometheusAlert}. */
    public PrometheusAlert prometheusAlert;
    /** The event, when {@code source} is {@code KubernetesEvent}. */
    public Event kubernetesEvent;
    /** The node where the diagnosis runs; taken from the pod when only {@code podReference} is given. */
    public String nodeName;
    /** The pod the fault is about. */
    public PodReference podReference;
    /** Collectors to run, in this order; all run and one success suffices. */
    public List<NamespacedName> assignedInformationCollectors;
    /** Diagnosers to try, in this order, until the first success. */
    public List<NamespacedName> assignedDiagnosers;
    /** Recoverers to try, in this order, until the first success. */
    public List<NamespacedName> assignedRecoverers;
    /** Commands to run in the stage named by their {@code type}; their results never change the phase. */
    public List<CommandExecutorSpec> commandExecutors;
    /** Profilers to run in the stage named by their {@code type}. */
    public List<ProfilerSpec> profilers;
    /** Free-form input for processors, e.g. {@code signalRecovery} or {@code filePathInformation}. */
    @PreserveUnknownFields
    public Map<String, Object> context;
    /** Skip information collection (KubeDiag v0.1.0); a skipped stage counts as a success. */
    public Boolean skipInformationCollection;
    /** Skip diagnosis (KubeDiag v0.1.0); a skipped stage counts as a success. */
    public Boolean skipDiagnosis;
    /** Skip recovery (KubeDiag v0.1.0); a skipped stage counts as a success. */
    public Boolean skipRecovery;
}
