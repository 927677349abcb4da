package io.kdiag.sourcebridge;

import java.time.Instant;
import java.util.Map;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.kdiag.api.ApiSerialization;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;

/**
 * Inputs as their producers send them: requests for the ingest topic, an Alertmanager webhook payload, Kubernetes
 * Events and the AbnormalSource rules over them.
 */
public final class Samples {
    /** The seed's Abnormal as {@code kubectl … -o json} would write it, plus a label. */
    public static final String SEED_MANIFEST_JSON = """
            {"apiVersion": "diagnosis.netease.com/v1", "kind": "Abnormal",
             "metadata": {"name": "pod-disk-usage-diagnosis", "namespace": "default", "labels": {"app": "web"}},
             "spec": {
               "assignedDiagnosers": [{"name": "pod-disk-usage-diagnoser", "namespace": "kube-diagnoser"}],
               "assignedInformationCollectors": [{"name": "pod-collector", "namespace": "kube-diagnoser"}],
               "nodeName": "10.177.16.22",
               "skipDiagnosis": false, "skipInformationCollection": false, "skipRecovery": true,
               "source": "Custom"}}""";

    /** What Alertmanager's webhook_configs sends. */
    public static final String WEBHOOK_V4 = """
            {"receiver": "kube-diagnoser", "status": "firing", "version": "4", "groupKey": "{}:{alertname=\\"KubePodNotReady\\"}",
             "truncatedAlerts": 0, "groupLabels": {"alertname": "KubePodNotReady"}, "commonLabels": {}, "commonAnnotations": {},
             "externalURL": "http://alertmanager:9093",
             "alerts": [{"status": "firing", "labels": {"alertname": "KubePodNotReady", "node": "node-1"}, "annotations": {},
                         "startsAt": "2026-03-01T11:40:00Z", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "",
                         "fingerprint": "c0ffee0123456789"},
                        {"status": "resolved", "labels": {"alertname": "KubePodNotReady", "node": "node-2"}, "annotations": {},
                         "startsAt": "2026-03-01T10:00:00Z", "endsAt": "2026-03-01T11:50:00Z", "fingerprint": "0badcafe00000000"}]}""";

    /** Real kubelet / node-problem-detector event shapes. */
    public static Event event(String name, String reason, String type, String message, String kind, String object, String component,
            String host) {
        return new EventBuilder().withNewMetadata().withNamespace("default").withName(name).withUid("uid-" + name).endMetadata()
                .withReason(reason).withType(type).withMessage(message).withCount(1)
                .withNewInvolvedObject().withKind(kind).withNamespace("Node".equals(kind) ? null : "default").withName(object)
                .withApiVersion("v1").endInvolvedObject()
                .withNewSource().withComponent(component).withHost(host).endSource().build();
    }

    public static final Event UNHEALTHY = event("web-0.17a2b", "Unhealthy", "Warning",
            "Readiness probe failed: Get \"http://10.244.1.5:8080/healthz\": dial tcp 10.244.1.5:8080: connect: connection refused",
            "Pod", "web-0", "kubelet", "node-1");
    public static final Event BACK_OFF = event("web-1.17a2c", "BackOff", "Warning", "Back-off restarting failed container app in pod web-1_default(1f0c)",
            "Pod", "web-1", "kubelet", "node-2");
    public static final Event FAILED_MOUNT = event("db-0.17a2d", "FailedMount", "Warning",
            "MountVolume.SetUp failed for volume \"data\" : secret \"db-tls\" not found", "Pod", "db-0", "kubelet", "node-1");
    public static final Event EVICTED = event("batch-7.17a2e", "Evicted", "Warning",
            "The node was low on resource: memory. Threshold quantity: 100Mi, available: 92160Ki.", "Pod", "batch-7", "kubelet", "node-3");
    public static final Event OOM_KILLING = event("node-1.17a2f", "OOMKilling", "Warning",
            "Memory cgroup out of memory: Killed process 4242 (java) total-vm:4862012kB, anon-rss:3045672kB, file-rss:0kB, shmem-rss:0kB",
            "Node", "node-1", "kernel-monitor", "node-1");

    /** An AbnormalSource spec over Kubernetes Events with the given {@code regexp} object, starting one diagnoser. */
    public static Map<String, Object> eventRule(String regexp) {
        return ApiSerialization.jsonObject("""
                {"sourceTemplate": {"type": "KubernetesEvent", "kubernetesEventTemplate": {"regexp": %s}},
                 "assignedDiagnosers": [{"namespace": "kube-diagnoser", "name": "pod-disk-usage-diagnoser"}],
                 "context": {"team": "sre"}}""".formatted(regexp));
    }

    private Samples() {
    }

    /** A complete Avro request for a node, claiming an origin. */
    public static AbnormalRequest avroRequest(String nodeName, Origin origin) {
        return AbnormalRequest.newBuilder()
                .setUid("avro-" + nodeName).setNamespace("default").setName("disk-full").setNodeName(nodeName)
                .setOrigin(origin).setRequestedAt(Instant.parse("2026-02-01T10:00:00Z"))
                .setSpec("{\"skipRecovery\":true}").setLabels(Map.of("team", "sre"))
                .build();
    }

    /** A minimal JSON request for a node. */
    public static String jsonRequest(String name, String nodeName) {
        return "{\"name\": \"" + name + "\", \"nodeName\": \"" + nodeName + "\", \"spec\": {\"skipRecovery\": true}}";
    }
}
