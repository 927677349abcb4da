package io.kdiag.sourcebridge.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;

import com.google.re2j.Pattern;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.PrometheusAlert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * How KubeDiag v0.1.6 matched a template ({@code MatchPrometheusAlert} and {@code MatchKubernetesEvent} of its
 * {@code pkg/util}, and the cases of their tests, restated with our own values): RE2, unanchored, an empty pattern
 * matches anything, a missing field is Go's zero value, times are Go's {@code String()} text, {@code count} is decimal
 * and {@code reportingController} is the event's {@code reportingComponent}.
 */
class KubeDiagTemplateTest {
    /** The instant every full alert and event here carries. */
    private static final String T = "2024-05-06T07:08:09Z";
    private static final String T_TEXT = "2024-05-06 07:08:09 +0000 UTC";

    private static SourceRule alertRule(String regexp) throws SourceRule.InvalidRule {
        return SourceRule.compile("kube-diagnoser", "alerts", ApiSerialization.jsonObject("""
                {"sourceTemplate": {"type": "PrometheusAlert", "prometheusAlertTemplate": {"regexp": %s}}}""".formatted(regexp)),
                null, ZoneOffset.UTC);
    }

    private static SourceRule eventRule(String regexp) throws SourceRule.InvalidRule {
        return SourceRule.compile("kube-diagnoser", "events", ApiSerialization.jsonObject("""
                {"sourceTemplate": {"type": "KubernetesEvent", "kubernetesEventTemplate": {"regexp": %s}}}""".formatted(regexp)),
                null, ZoneOffset.UTC);
    }

    private static String quoted(String text) {
        // the JSON string of an RE2 pattern matching the text literally
        return ApiSerialization.json(Pattern.quote(text));
    }

    private static PrometheusAlert fullAlert() {
        PrometheusAlert alert = new PrometheusAlert();
        alert.labels = new LinkedHashMap<>(Map.of("alertname", "disk-full", "node", "n7"));
        alert.annotations = new LinkedHashMap<>(Map.of("summary", "s9", "team", "ops"));
        alert.startsAt = T;
        alert.endsAt = T;
        alert.generatorURL = "http://prom/g";
        return alert;
    }

    private static String fullAlertTemplate() {
        return """
                {"alertName": "disk-full", "labels": {"alertname": "disk-full", "node": "n7"},
                 "annotations": {"summary": "s9", "team": "ops"}, "startsAt": %s, "endsAt": %s, "generatorURL": "http://prom/g"}"""
                .formatted(quoted(T_TEXT), quoted(T_TEXT));
    }

    private static Event fullEvent() {
        return new EventBuilder().withNewMetadata().withName("ev-a").withNamespace("ns-a").endMetadata()
                .withNewInvolvedObject().withKind("Pod").withNamespace("ns-a").withName("web-1").withUid("uid-1")
                .withApiVersion("v1").withResourceVersion("1").withFieldPath("spec.containers{web}").endInvolvedObject()
                .withReason("reason-1").withMessage("message-1").withNewSource().withComponent("kubelet-1").withHost("host-1").endSource()
                .withFirstTimestamp(T).withLastTimestamp(T).withCount(1).withType("type-1").withAction("action-1")
                .withReportingComponent("ctrl-a").withReportingInstance("inst-a").build();
    }

    private static String fullEventTemplate() {
        return """
                {"name": "ev-a", "namespace": "ns-a",
                 "involvedObject": {"kind": "Pod", "namespace": "ns-a", "name": "web-1", "uid": "uid-1", "apiVersion": "v1",
                   "resourceVersion": "1", "fieldPath": "spec.containers{web}"},
                 "reason": "reason-1", "message": "message-1", "source": {"component": "kubelet-1", "host": "host-1"},
                 "firstTimestamp": %s, "lastTimestamp": %s, "count": "1", "type": "type-1", "action": "action-1",
                 "reportingController": "ctrl-a", "reportingInstance": "inst-a"}""".formatted(quoted(T_TEXT), quoted(T_TEXT));
    }

    // ---- alerts (TestMatchPrometheusAlert) ----------------------------------------------------------------------------

    @Test
    void shouldMatchAnAlertThatCarriesEveryValueOfTheTemplate() throws Exception {
        assertThat(alertRule(fullAlertTemplate()).matches(fullAlert())).isTrue();
    }

    @Test
    void shouldMatchAnyAlertWithAnEmptyTemplate() throws Exception {
        assertThat(alertRule("{}").matches(fullAlert())).isTrue();
        assertThat(alertRule("{}").matches(new PrometheusAlert())).isTrue();
    }

    @Test
    void shouldNotMatchAnEmptyAlertWithAFullTemplate() throws Exception {
        assertThat(alertRule(fullAlertTemplate()).matches(new PrometheusAlert())).isFalse();
    }

    @Test
    void shouldNotMatchWhenOneAlertFieldDiffers() throws Exception {
        SourceRule full = alertRule(fullAlertTemplate());
        PrometheusAlert otherName = fullAlert();
        otherName.labels.put("alertname", "cpu-high");
        PrometheusAlert otherLabel = fullAlert();
        otherLabel.labels.put("node", "n8");
        PrometheusAlert otherAnnotation = fullAlert();
        otherAnnotation.annotations.put("team", "dev");
        PrometheusAlert otherUrl = fullAlert();
        otherUrl.generatorURL = "http://b";
        assertThat(alertRule("{\"alertName\": \"disk-full\"}").matches(otherName)).isFalse();
        assertThat(full.matches(otherLabel)).isFalse();
        assertThat(full.matches(otherAnnotation)).isFalse();
        assertThat(full.matches(otherUrl)).isFalse();
        assertThat(alertRule("{\"startsAt\": \"not a time\"}").matches(fullAlert())).isFalse();
        assertThat(alertRule("{\"endsAt\": \"not a time\"}").matches(fullAlert())).isFalse();
        assertThat(alertRule("{\"generatorURL\": \"http://a\"}").matches(fullAlert())).isFalse();
    }

    @Test
    void shouldRefuseAnInvalidPatternWithGosMessage() {
        assertThatThrownBy(() -> alertRule("{\"alertName\": \"(disk\"}"))
                .hasMessage("spec.sourceTemplate.prometheusAlertTemplate.regexp.alertName is not a valid RE2 regular expression: "
                        + "error parsing regexp: missing closing ): `(disk`");
    }

    @Test
    void shouldRequireALabelThatAnEmptyPatternNamesButMatchAMissingAlertnameAsEmpty() throws Exception {
        PrometheusAlert withSeverity = new PrometheusAlert();
        withSeverity.labels = Map.of("severity", "warning");
        PrometheusAlert without = new PrometheusAlert();
        without.labels = Map.of("alertname", "x");
        assertThat(alertRule("{\"labels\": {\"severity\": \"\"}}").matches(withSeverity)).isTrue();
        assertThat(alertRule("{\"labels\": {\"severity\": \"\"}}").matches(without)).isFalse();
        assertThat(alertRule("{\"annotations\": {\"runbook\": \"\"}}").matches(without)).isFalse();
        assertThat(alertRule("{\"alertName\": \"\"}").matches(withSeverity)).isTrue();
        assertThat(alertRule("{\"alertName\": \"^$\"}").matches(withSeverity)).isTrue();
    }

    @Test
    void shouldMatchAlertTimesAsGoPrintsThem() throws Exception {
        PrometheusAlert alert = new PrometheusAlert();
        alert.startsAt = "2021-03-01T16:10:12.120+08:00";
        assertThat(alertRule("{\"startsAt\": \"^2021-03-01 16:10:12.12 \\\\+0800 \\\\+0800$\", \"endsAt\": \"^0001-01-01 00:00:00 \\\\+0000 UTC$\"}")
                .matches(alert)).isTrue();
        assertThat(alertRule("{\"startsAt\": \"2021-03-01T\"}").matches(alert)).as("not RFC 3339").isFalse();
    }

    // ---- events (TestMatchKubernetesEvent) ----------------------------------------------------------------------------

    @Test
    void shouldMatchAnEventThatCarriesEveryValueOfTheTemplate() throws Exception {
        assertThat(eventRule(fullEventTemplate()).matches(fullEvent())).isTrue();
    }

    @Test
    void shouldMatchAnyEventWithAnEmptyTemplateAndNoEmptyEventWithNames() throws Exception {
        Event named = new EventBuilder().withNewMetadata().withName("ev-a").withNamespace("ns-a").endMetadata().build();
        assertThat(eventRule("{}").matches(named)).isTrue();
        assertThat(eventRule("{\"name\": \"ev-a\", \"namespace\": \"ns-a\"}").matches(new Event())).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "name | {\"name\": \"ev-b\"}",
        "namespace | {\"namespace\": \"ns-b\"}",
        "involvedObject.kind | {\"involvedObject\": {\"kind\": \"Node\"}}",
        "involvedObject.namespace | {\"involvedObject\": {\"namespace\": \"ns-b\"}}",
        "involvedObject.name | {\"involvedObject\": {\"name\": \"web-2\"}}",
        "involvedObject.uid | {\"involvedObject\": {\"uid\": \"uid-2\"}}",
        "involvedObject.apiVersion | {\"involvedObject\": {\"apiVersion\": \"v2\"}}",
        "involvedObject.resourceVersion | {\"involvedObject\": {\"resourceVersion\": \"2\"}}",
        "involvedObject.fieldPath | {\"involvedObject\": {\"fieldPath\": \"spec.initContainers\"}}",
        "reason | {\"reason\": \"reason-2\"}",
        "message | {\"message\": \"message-2\"}",
        "source.component | {\"source\": {\"component\": \"kubelet-2\"}}",
        "source.host | {\"source\": {\"host\": \"host-2\"}}",
        "firstTimestamp | {\"firstTimestamp\": \"not a time\"}",
        "lastTimestamp | {\"lastTimestamp\": \"not a time\"}",
        "count | {\"count\": \"2\"}",
        "type | {\"type\": \"type-2\"}",
        "action | {\"action\": \"action-2\"}",
        "reportingController | {\"reportingController\": \"ctrl-b\"}",
        "reportingInstance | {\"reportingInstance\": \"inst-b\"}"})
    void shouldNotMatchWhenOneEventFieldDiffers(String field, String template) throws Exception {
        assertThat(eventRule(template).matches(fullEvent())).isFalse();
    }

    @Test
    void shouldRefuseAnInvalidEventPatternWithGosMessage() {
        assertThatThrownBy(() -> eventRule("{\"name\": \"(ev\"}")).hasMessageEndingWith("error parsing regexp: missing closing ): `(ev`");
    }

    @Test
    void shouldMatchAMissingCountAsZeroAndAMissingTimeAsGosZeroTime() throws Exception {
        Event bare = new EventBuilder().withNewMetadata().withName("ev-a").endMetadata().build();
        assertThat(eventRule("{\"count\": \"^0$\"}").matches(bare)).isTrue();
        assertThat(eventRule("{\"count\": \"^$\"}").matches(bare)).isFalse();
        assertThat(eventRule("{\"firstTimestamp\": \"^0001-01-01 00:00:00 \\\\+0000 UTC$\"}").matches(bare)).isTrue();
        Event many = new EventBuilder(bare).withCount(12).build();
        assertThat(eventRule("{\"count\": \"^([3-9]|[1-9][0-9]+)$\"}").matches(many)).isTrue();
    }

    @Test
    void shouldMatchReportingControllerAgainstTheEventsReportingComponent() throws Exception {
        Event kubelet = new EventBuilder().withReportingComponent("kubelet").build();
        assertThat(eventRule("{\"reportingController\": \"^kubelet$\"}").matches(kubelet)).isTrue();
        Event other = new EventBuilder().withReportingComponent("").build();
        other.setAdditionalProperty("reportingController", "kubelet");
        assertThat(eventRule("{\"reportingController\": \"kubelet\"}").matches(other)).isFalse();
    }

    @Test
    void shouldMatchEventTimesInTheConfiguredZone() throws Exception {
        Event event = new EventBuilder().withFirstTimestamp("2021-03-01T08:10:12Z").build();
        String utc = "{\"firstTimestamp\": \"^2021-03-01 08:10:12 \\\\+0000 UTC$\"}";
        String shanghai = "{\"firstTimestamp\": \"^2021-03-01 16:10:12 \\\\+0800 CST$\"}";
        assertThat(eventRule(utc).matches(event)).isTrue();
        SourceRule inShanghai = SourceRule.compile("kube-diagnoser", "events", ApiSerialization.jsonObject("""
                {"sourceTemplate": {"type": "KubernetesEvent", "kubernetesEventTemplate": {"regexp": %s}}}""".formatted(shanghai)),
                null, ZoneId.of("Asia/Shanghai"));
        assertThat(inShanghai.matches(event)).isTrue();
    }

    // ---- RE2, not java.util.regex ------------------------------------------------------------------------------------

    @Test
    void shouldNotLetDollarMatchBeforeATrailingNewline() throws Exception {
        Event probe = new EventBuilder().withMessage("Liveness probe failed\n").build();
        assertThat(eventRule("{\"message\": \"failed$\"}").matches(probe)).isFalse();
        assertThat(eventRule("{\"message\": \"failed\\n$\"}").matches(probe)).isTrue();
    }

    @Test
    void shouldTakeABraceThatStartsNoRepetitionLiterally() throws Exception {
        Event event = new EventBuilder().withNewInvolvedObject().withFieldPath("spec.containers{nginx}").endInvolvedObject().build();
        assertThat(eventRule("{\"involvedObject\": {\"fieldPath\": \"spec.containers{nginx}\"}}").matches(event)).isTrue();
    }

    @Test
    void shouldRefuseLookAroundAndBackReferencesAsGoDoes() {
        assertThatThrownBy(() -> eventRule("{\"message\": \"(?=x)\"}"))
                .hasMessageEndingWith("error parsing regexp: invalid or unsupported Perl syntax: `(?=`");
        assertThatThrownBy(() -> eventRule("{\"message\": \"(a)\\\\1\"}")).hasMessageContaining("invalid escape sequence");
    }

    @Test
    void shouldMatchPosixClassesAndGosWhitespace() throws Exception {
        Event tab = new EventBuilder().withMessage("a\u000Bb").build();
        assertThat(eventRule("{\"message\": \"a[[:space:]]b\"}").matches(tab)).isTrue();
        assertThat(eventRule("{\"message\": \"a\\\\sb\"}").matches(tab)).as("\\s is [\\t\\n\\f\\r ] in RE2").isFalse();
    }
}
