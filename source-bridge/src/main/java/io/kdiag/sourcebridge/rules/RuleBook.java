package io.kdiag.sourcebridge.rules;

import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Predicate;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.kdiag.api.Annotations;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.PrometheusAlert;
import io.kdiag.common.config.ConfigException;
import io.kdiag.schemas.avro.AbnormalRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The AbnormalSource rules in force, ordered by namespace/name so "first match wins" means the same on every
 * replica and after every restart. Rules are read as raw JSON so an unknown or mistyped field is reported rather than
 * silently dropped; a rule that does not compile is skipped and gets the annotation {@link SourceRule#RULE_ERROR} with
 * the reason (the AbnormalSource status schema has only {@code lastAbnormal}, KubeDiag's).
 */
public final class RuleBook implements AutoCloseable {
    /** The AbnormalSource resource, read as raw JSON. */
    public static final ResourceDefinitionContext ABNORMAL_SOURCES = new ResourceDefinitionContext.Builder()
            .withGroup(Abnormal.GROUP).withVersion(Abnormal.VERSION).withKind("AbnormalSource").withPlural("abnormalsources")
            .withNamespaced(true).build();
    private static final Logger LOG = LoggerFactory.getLogger(RuleBook.class);

    private final KubernetesClient client;
    private final ZoneId localZone;
    private final Map<String, SourceRule> rules = new ConcurrentSkipListMap<>();
    private SharedIndexInformer<GenericKubernetesResource> informer;

    /**
     * A rule book fed by an informer on {@code client}, or, with {@code null}, only through {@link #update}.
     *
     * @param localZone the zone KubeDiag's process ran in: the zone of the times its templates match
     */
    public RuleBook(KubernetesClient client, ZoneId localZone) {
        this.client = client;
        this.localZone = localZone;
    }

    /** Starts following the AbnormalSources of every namespace. */
    public RuleBook start() {
        informer = client.genericKubernetesResources(ABNORMAL_SOURCES).inAnyNamespace().inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(GenericKubernetesResource resource) {
                update(resource);
            }

            @Override
            public void onUpdate(GenericKubernetesResource before, GenericKubernetesResource after) {
                update(after);
            }

            @Override
            public void onDelete(GenericKubernetesResource resource, boolean finalStateUnknown) {
                rules.remove(resource.getMetadata().getNamespace() + "/" + resource.getMetadata().getName());
            }
        });
        return this;
    }

    /** Compiles an AbnormalSource and puts it in force, or takes it out and records why it cannot be used. */
    public void update(GenericKubernetesResource resource) {
        String namespace = resource.getMetadata().getNamespace();
        String name = resource.getMetadata().getName();
        Map<String, String> annotations = resource.getMetadata().getAnnotations();
        String error = compile(resource);
        String recorded = annotations == null ? null : annotations.get(SourceRule.RULE_ERROR);
        if (client != null && !java.util.Objects.equals(recorded, error)) {
            annotate(namespace, name, error);
        }
    }

    /**
     * Puts a rule read from a file in force; a CR of the same namespace and name replaces it.
     *
     * @throws ConfigException naming the file and rule, with why it cannot be used (what a CR is annotated with)
     */
    public void load(RuleFiles.Rule rule) {
        String error = compile(rule.resource());
        if (error != null) {
            throw new ConfigException(rule.origin() + " cannot be used: " + error);
        }
    }

    /** Compiles an AbnormalSource into the book; returns why it cannot be used (and takes it out), or null. */
    @SuppressWarnings("unchecked")
    private String compile(GenericKubernetesResource resource) {
        String namespace = resource.getMetadata().getNamespace();
        String name = resource.getMetadata().getName();
        Map<String, String> annotations = resource.getMetadata().getAnnotations();
        Object spec = resource.getAdditionalProperties().get("spec");
        String error = null;
        try {
            if (spec != null && !(spec instanceof Map)) {
                throw new SourceRule.InvalidRule("spec must be an object");
            }
            SourceRule rule = SourceRule.compile(namespace, name, (Map<String, Object>) spec, annotations, localZone);
            rules.put(rule.key(), rule);
        } catch (SourceRule.InvalidRule e) {
            rules.remove(namespace + "/" + name);
            error = e.getMessage();
            LOG.warn("skipping the AbnormalSource namespace={} name={}: {}", namespace, name, error);
        }
        return error;
    }

    private void annotate(String namespace, String name, String error) {
        try {
            client.genericKubernetesResources(ABNORMAL_SOURCES).inNamespace(namespace).withName(name).edit(current -> {
                Map<String, String> annotations = current.getMetadata().getAnnotations() == null
                        ? new HashMap<>() : new HashMap<>(current.getMetadata().getAnnotations());
                if (error == null) {
                    annotations.remove(SourceRule.RULE_ERROR);
                } else {
                    annotations.put(SourceRule.RULE_ERROR, error);
                }
                current.getMetadata().setAnnotations(annotations);
                return current;
            });
        } catch (KubernetesClientException e) {
            LOG.warn("cannot annotate the AbnormalSource namespace={} name={}: {}", namespace, name, e.getMessage());
        }
    }

    /** The first KubernetesEvent rule, in namespace/name order, that matches {@code event}. */
    public Optional<SourceRule> firstMatching(Event event) {
        return first(r -> r.isEventRule() && r.matches(event));
    }

    /** The first PrometheusAlert rule, in namespace/name order, that matches {@code alert}. */
    public Optional<SourceRule> firstMatching(PrometheusAlert alert) {
        return first(r -> r.isAlertRule() && r.matches(alert));
    }

    /**
     * Why nothing matched an alert, for the webhook's answer: no PrometheusAlert rule is loaded, or which ones were
     * tried (at most ten named).
     */
    public String whyNoAlertRuleMatched() {
        List<String> tried = rules.values().stream().filter(SourceRule::isAlertRule).map(SourceRule::key).toList();
        if (tried.isEmpty()) {
            return "no PrometheusAlert rule is loaded: create an AbnormalSource, or give the bridge rule files (kdiag.rules)";
        }
        return "none of the " + tried.size() + " PrometheusAlert rule(s) matched: " + String.join(", ", tried.subList(0, Math.min(10, tried.size())))
                + (tried.size() > 10 ? ", ..." : "");
    }

    private Optional<SourceRule> first(Predicate<SourceRule> test) {
        return rules.values().stream().filter(test).findFirst();
    }

    /** How many rules are in force. */
    public int size() {
        return rules.size();
    }

    /**
     * Writes {@code status.lastAbnormal} of the rule that started {@code abnormal}: its name, namespace, the uid it runs
     * under (annotation {@code kdiag.io/uid}) and when it was forwarded; a no-op without a cluster.
     */
    public void recordLastAbnormal(SourceRule rule, AbnormalRequest abnormal) {
        if (client == null) {
            return;
        }
        Map<String, Object> lastAbnormal = new LinkedHashMap<>();
        lastAbnormal.put("name", abnormal.getName());
        lastAbnormal.put("namespace", abnormal.getNamespace());
        lastAbnormal.put("annotations", Map.of(Annotations.UID, abnormal.getUid()));
        lastAbnormal.put("creationTimestamp", DateTimeFormatter.ISO_INSTANT.format(abnormal.getRequestedAt().truncatedTo(ChronoUnit.SECONDS)));
        try {
            client.genericKubernetesResources(ABNORMAL_SOURCES).inNamespace(rule.namespace()).withName(rule.name())
                    .editStatus(current -> {
                        current.getAdditionalProperties().put("status", Map.of("lastAbnormal", lastAbnormal));
                        return current;
                    });
        } catch (KubernetesClientException e) {
            LOG.warn("cannot write the status of the AbnormalSource namespace={} name={}: {}", rule.namespace(), rule.name(),
                    e.getMessage());
        }
    }

    @Override
    public void close() {
        if (informer != null) {
            informer.close();
        }
    }
}
