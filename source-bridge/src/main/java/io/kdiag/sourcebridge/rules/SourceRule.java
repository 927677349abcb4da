package io.kdiag.sourcebridge.rules;

import static io.kdiag.sourcebridge.request.ErrorText.quoted;
import static io.kdiag.sourcebridge.request.ErrorText.typeOf;

import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSourceSpec;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.PrometheusAlert;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.sourcebridge.request.ErrorText;
import io.kdiag.sourcebridge.request.Refusal;
import io.kdiag.sourcebridge.request.RequestValidator;

/**
 * One compiled {@code AbnormalSource}: KubeDiag's source template over a Kubernetes Event or a Prometheus alert,
 * matched as KubeDiag v0.1.6 did. Patterns are RE2 (Go's {@code regexp}, here re2j: linear time in the text, whatever
 * the pattern), searched unanchored as Go's {@code MatchString}, unless the AbnormalSource carries the annotation
 * {@code kdiag.io/match-mode: anchored}, which makes each pattern match its whole field. Each given pattern must match
 * its field's text; an empty pattern matches anything. A field the event or alert lacks is matched as Go's zero value:
 * {@code ""}, {@code 0} for {@code count}, Go's zero time for a time; but a label or annotation the alert lacks does
 * not match at all. Times are matched as Go prints them ({@link GoTimeText}), and the template's
 * {@code reportingController} is the event's {@code reportingComponent}, as in KubeDiag's Go type.
 *
 * <p>{@link #compile} is strict: an unknown field, a value of the wrong type, an invalid pattern or a spec part the
 * {@link RequestValidator} would refuse makes the whole rule invalid, with a message that says where.
 */
public final class SourceRule {
    /** Annotation on an AbnormalSource choosing how its patterns match: {@code unanchored} (default) or {@code anchored}. */
    static final String MATCH_MODE = "kdiag.io/match-mode";
    /** Annotation the bridge writes on an AbnormalSource it cannot use, saying why; removed once the rule is fixed. */
    public static final String RULE_ERROR = "kdiag.io/rule-error";
    /** {@code spec.source} of the abnormals the KubernetesEvent rules start. */
    public static final String EVENT = "KubernetesEvent";
    /** {@code spec.source} of the abnormals the PrometheusAlert rules start. */
    public static final String ALERT = "PrometheusAlert";
    private static final Set<String> SPEC_FIELDS = Set.of("sourceTemplate", "assignedInformationCollectors", "assignedDiagnosers",
            "assignedRecoverers", "commandExecutors", "profilers", "context");
    private static final Set<String> TEMPLATE_FIELDS = Set.of("type", "kubernetesEventTemplate", "prometheusAlertTemplate");
    private static final Set<String> EVENT_TEMPLATE_FIELDS = Set.of("regexp");
    /** The event template's fields that are one pattern each. */
    private static final List<String> EVENT_TEXT_FIELDS = List.of("name", "namespace", "reason", "message", "firstTimestamp",
            "lastTimestamp", "count", "type", "action", "reportingController", "reportingInstance");
    private static final Set<String> EVENT_FIELDS = union(EVENT_TEXT_FIELDS, "involvedObject", "source");
    private static final Set<String> INVOLVED_FIELDS =
            Set.of("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath");
    private static final Set<String> EVENT_SOURCE_FIELDS = Set.of("component", "host");
    private static final Set<String> ALERT_TEMPLATE_FIELDS = Set.of("regexp", "nodeNameReferenceLabel");
    /** The alert template's fields that are one pattern each. */
    private static final List<String> ALERT_TEXT_FIELDS = List.of("alertName", "startsAt", "endsAt", "generatorURL");
    private static final Set<String> ALERT_FIELDS = union(ALERT_TEXT_FIELDS, "labels", "annotations");

    private final String namespace;
    private final String name;
    private final String type;
    private final AbnormalSourceSpec spec;
    private final Map<String, Pattern> fields;
    private final Map<String, Pattern> labels;
    private final Map<String, Pattern> annotations;
    private final String nodeNameReferenceLabel;
    private final ZoneId localZone;

    private SourceRule(String namespace, String name, String type, AbnormalSourceSpec spec, Map<String, Pattern> fields,
            Map<String, Pattern> labels, Map<String, Pattern> annotations, String nodeNameReferenceLabel, ZoneId localZone) {
        this.namespace = namespace;
        this.name = name;
        this.type = type;
        this.spec = spec;
        this.fields = fields;
        this.labels = labels;
        this.annotations = annotations;
        this.nodeNameReferenceLabel = nodeNameReferenceLabel;
        this.localZone = localZone;
    }

    private static Set<String> union(List<String> fields, String... more) {
        Set<String> all = new HashSet<>(fields);
        all.addAll(List.of(more));
        return Set.copyOf(all);
    }

    /** Thrown for an AbnormalSource that cannot be used; the message says what to fix. */
    static final class InvalidRule extends Exception {
        private static final long serialVersionUID = 1L;

        InvalidRule(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Compiles an AbnormalSource from its raw JSON form.
     *
     * @param spec the {@code spec} object as the API server returned it
     * @param annotations the AbnormalSource's annotations, for {@link #MATCH_MODE}
     * @param localZone the zone KubeDiag's process ran in, for the text of times ({@link GoTimeText})
     */
    static SourceRule compile(String namespace, String name, Map<String, Object> spec, Map<String, String> annotations,
            ZoneId localZone) throws InvalidRule {
        boolean anchored = matchMode(annotations);
        if (spec == null) {
            throw new InvalidRule("spec is required, with a sourceTemplate");
        }
        known(spec, SPEC_FIELDS, "spec");
        Map<String, Object> template = object(spec, "sourceTemplate", "spec.sourceTemplate");
        if (template == null) {
            throw new InvalidRule("spec.sourceTemplate is required");
        }
        known(template, TEMPLATE_FIELDS, "spec.sourceTemplate");
        Object type = template.get("type");
        Map<String, Pattern> fields = new LinkedHashMap<>();
        Map<String, Pattern> labels = new LinkedHashMap<>();
        Map<String, Pattern> annotationPatterns = new LinkedHashMap<>();
        String nodeLabel = null;
        if (EVENT.equals(type)) {
            Map<String, Object> event = object(template, "kubernetesEventTemplate", "spec.sourceTemplate.kubernetesEventTemplate");
            if (event == null) {
                throw new InvalidRule("spec.sourceTemplate.kubernetesEventTemplate is required when type is KubernetesEvent");
            }
            known(event, EVENT_TEMPLATE_FIELDS, "spec.sourceTemplate.kubernetesEventTemplate");
            String path = "spec.sourceTemplate.kubernetesEventTemplate.regexp";
            Map<String, Object> regexp = object(event, "regexp", path);
            if (regexp != null) {
                known(regexp, EVENT_FIELDS, path);
                for (String field : EVENT_TEXT_FIELDS) {
                    putPattern(fields, field, regexp.get(field), path + "." + field, anchored);
                }
                patterns(regexp, "involvedObject", INVOLVED_FIELDS, path, anchored, fields, "involvedObject.");
                patterns(regexp, "source", EVENT_SOURCE_FIELDS, path, anchored, fields, "source.");
            }
        } else if (ALERT.equals(type)) {
            Map<String, Object> alert = object(template, "prometheusAlertTemplate", "spec.sourceTemplate.prometheusAlertTemplate");
            if (alert == null) {
                throw new InvalidRule("spec.sourceTemplate.prometheusAlertTemplate is required when type is PrometheusAlert");
            }
            known(alert, ALERT_TEMPLATE_FIELDS, "spec.sourceTemplate.prometheusAlertTemplate");
            nodeLabel = string(alert.get("nodeNameReferenceLabel"), "spec.sourceTemplate.prometheusAlertTemplate.nodeNameReferenceLabel");
            String path = "spec.sourceTemplate.prometheusAlertTemplate.regexp";
            Map<String, Object> regexp = object(alert, "regexp", path);
            if (regexp != null) {
                known(regexp, ALERT_FIELDS, path);
                for (String field : ALERT_TEXT_FIELDS) {
                    putPattern(fields, field, regexp.get(field), path + "." + field, anchored);
                }
                patterns(regexp, "labels", null, path, anchored, labels, "");
                patterns(regexp, "annotations", null, path, anchored, annotationPatterns, "");
            }
        } else {
            throw new InvalidRule("spec.sourceTemplate.type must be KubernetesEvent or PrometheusAlert, not "
                    + (type instanceof String s ? quoted(s) : typeOf(type)));
        }
        AbnormalSourceSpec typed;
        try {
            typed = ApiSerialization.convert(spec, AbnormalSourceSpec.class);
        } catch (RuntimeException e) {
            throw new InvalidRule("spec does not fit the AbnormalSource schema: " + ErrorText.detail(e));
        }
        SourceRule rule = new SourceRule(namespace, name, (String) type, typed, fields, labels, annotationPatterns, nodeLabel,
                localZone);
        rule.checkCopiedParts();
        return rule;
    }

    /** The parts copied into every abnormal must pass the validator, or every match would be refused later. */
    private void checkCopiedParts() throws InvalidRule {
        AbnormalSpec trial = abnormalSpec("node");
        AbnormalRequest request = AbnormalRequest.newBuilder().setUid("trial").setNamespace("trial").setName("trial")
                .setNodeName("node").setOrigin(Origin.Unknown).setRequestedAt(java.time.Instant.EPOCH)
                .setSpec(ApiSerialization.json(trial)).build();
        try {
            new RequestValidator().validate(request);
        } catch (Refusal refusal) {
            throw new InvalidRule("the abnormal this rule would start is invalid: " + refusal.getMessage());
        }
    }

    private static boolean matchMode(Map<String, String> annotations) throws InvalidRule {
        String mode = annotations == null ? null : annotations.get(MATCH_MODE);
        if (mode == null || mode.equalsIgnoreCase("unanchored")) {
            return false;
        }
        if (mode.equalsIgnoreCase("anchored")) {
            return true;
        }
        throw new InvalidRule("annotation " + MATCH_MODE + " must be anchored or unanchored, not " + quoted(mode));
    }

    private static void patterns(Map<String, Object> regexp, String field, Set<String> keys, String path, boolean anchored,
            Map<String, Pattern> into, String prefix) throws InvalidRule {
        Map<String, Object> map = object(regexp, field, path + "." + field);
        if (map == null) {
            return;
        }
        if (keys != null) {
            known(map, keys, path + "." + field);
        }
        for (Map.Entry<String, Object> entry : map.entrySet()) {
            putPattern(into, prefix + entry.getKey(), entry.getValue(), path + "." + field + "." + entry.getKey(), anchored);
        }
    }

    private static void putPattern(Map<String, Pattern> into, String key, Object value, String path, boolean anchored)
            throws InvalidRule {
        String text = string(value, path);
        if (text == null) {
            return;
        }
        try {
            // an empty pattern matches anything in either mode
            into.put(key, Pattern.compile(anchored && !text.isEmpty() ? "\\A(?:" + text + ")\\z" : text));
        } catch (PatternSyntaxException e) {
            // re2j's message is Go's, e.g. error parsing regexp: missing closing ): `(disk`
            throw new InvalidRule(path + " is not a valid RE2 regular expression: " + e.getMessage());
        }
    }

    private static String string(Object value, String path) throws InvalidRule {
        if (value == null || value instanceof String) {
            return (String) value;
        }
        throw new InvalidRule(path + " must be a string, not " + typeOf(value));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Map<String, Object> parent, String field, String path) throws InvalidRule {
        Object value = parent.get(field);
        if (value == null) {
            return null;
        }
        if (!(value instanceof Map)) {
            throw new InvalidRule(path + " must be an object, not " + typeOf(value));
        }
        return (Map<String, Object>) value;
    }

    private static void known(Map<String, Object> object, Set<String> fields, String path) throws InvalidRule {
        for (String key : object.keySet()) {
            if (!fields.contains(key)) {
                throw new InvalidRule("unknown field " + quoted(path + "." + key) + "; the fields are " + new TreeSet<>(fields));
            }
        }
    }

    String namespace() {
        return namespace;
    }

    String name() {
        return name;
    }

    /** {@code namespace/name}, the rules' order. */
    public String key() {
        return namespace + "/" + name;
    }

    boolean isEventRule() {
        return EVENT.equals(type);
    }

    boolean isAlertRule() {
        return ALERT.equals(type);
    }

    /** The alert label naming the node, or {@code null}. */
    public String nodeNameReferenceLabel() {
        return nodeNameReferenceLabel;
    }

    /** Whether every pattern matches the event. */
    boolean matches(Event event) {
        for (Map.Entry<String, Pattern> entry : fields.entrySet()) {
            if (!entry.getValue().matcher(eventText(event, entry.getKey())).find()) {
                return false;
            }
        }
        return true;
    }

    /** The text of an event's field as KubeDiag matched it: Go's zero value when absent. */
    private String eventText(Event event, String field) {
        ObjectReference involved = event.getInvolvedObject();
        io.fabric8.kubernetes.api.model.EventSource source = event.getSource();
        String text = switch (field) {
            case "name" -> event.getMetadata() == null ? null : event.getMetadata().getName();
            case "namespace" -> event.getMetadata() == null ? null : event.getMetadata().getNamespace();
            case "reason" -> event.getReason();
            case "message" -> event.getMessage();
            case "type" -> event.getType();
            case "action" -> event.getAction();
            case "firstTimestamp" -> GoTimeText.eventTime(event.getFirstTimestamp(), localZone);
            case "lastTimestamp" -> GoTimeText.eventTime(event.getLastTimestamp(), localZone);
            // KubeDiag's strconv.Itoa of the int32: 0 when absent, never series.count
            case "count" -> String.valueOf(event.getCount() == null ? 0 : event.getCount());
            // the Go field ReportingController is the JSON field reportingComponent
            case "reportingController" -> event.getReportingComponent();
            case "reportingInstance" -> event.getReportingInstance();
            case "involvedObject.kind" -> involved == null ? null : involved.getKind();
            case "involvedObject.namespace" -> involved == null ? null : involved.getNamespace();
            case "involvedObject.name" -> involved == null ? null : involved.getName();
            case "involvedObject.uid" -> involved == null ? null : involved.getUid();
            case "involvedObject.apiVersion" -> involved == null ? null : involved.getApiVersion();
            case "involvedObject.resourceVersion" -> involved == null ? null : involved.getResourceVersion();
            case "involvedObject.fieldPath" -> involved == null ? null : involved.getFieldPath();
            case "source.component" -> source == null ? null : source.getComponent();
            case "source.host" -> source == null ? null : source.getHost();
            default -> throw new IllegalStateException("no event field " + field);
        };
        return text == null ? "" : text;
    }

    /** Whether every pattern matches the alert; a label or annotation the alert lacks does not match. */
    boolean matches(PrometheusAlert alert) {
        Map<String, String> alertLabels = alert.labels == null ? Map.of() : alert.labels;
        Map<String, String> alertAnnotations = alert.annotations == null ? Map.of() : alert.annotations;
        for (Map.Entry<String, Pattern> entry : fields.entrySet()) {
            String text = switch (entry.getKey()) {
                case "alertName" -> alertLabels.getOrDefault("alertname", "");
                case "startsAt" -> GoTimeText.alertTime(alert.startsAt, localZone);
                case "endsAt" -> GoTimeText.alertTime(alert.endsAt, localZone);
                case "generatorURL" -> alert.generatorURL == null ? "" : alert.generatorURL;
                default -> throw new IllegalStateException("no alert field " + entry.getKey());
            };
            if (!entry.getValue().matcher(text).find()) {
                return false;
            }
        }
        return matchAll(labels, alertLabels) && matchAll(annotations, alertAnnotations);
    }

    private static boolean matchAll(Map<String, Pattern> patterns, Map<String, String> values) {
        for (Map.Entry<String, Pattern> entry : patterns.entrySet()) {
            String value = values.get(entry.getKey());
            if (value == null || !entry.getValue().matcher(value).find()) {
                return false;
            }
        }
        return true;
    }

    /** The spec of an abnormal this rule starts on {@code node}: the rule's processors, commands, profilers and context. */
    public AbnormalSpec abnormalSpec(String node) {
        AbnormalSpec abnormal = new AbnormalSpec();
        abnormal.nodeName = node;
        abnormal.assignedInformationCollectors = spec.assignedInformationCollectors;
        abnormal.assignedDiagnosers = spec.assignedDiagnosers;
        abnormal.assignedRecoverers = spec.assignedRecoverers;
        abnormal.commandExecutors = spec.commandExecutors;
        abnormal.profilers = spec.profilers;
        abnormal.context = spec.context == null ? null : new LinkedHashMap<>(spec.context);
        return abnormal;
    }

    @Override
    public String toString() {
        return key() + " (" + type.toLowerCase(Locale.ROOT) + ")";
    }
}
