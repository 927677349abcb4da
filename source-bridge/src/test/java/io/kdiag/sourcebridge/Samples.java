package io.kdiag.sourcebridge;

import java.time.Instant;
import java.util.Map;

import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;

/** Requests as producers publish them. */
final class Samples {
    /** The seed's Abnormal as {@code kubectl … -o json} would write it, plus a label. */
    static final String SEED_MANIFEST_JSON = """
            {"apiVersion": "diagnosis.netease.com/v1", "kind": "Abnormal",
             "metadata": {"name": "pod-disk-usage-diagnosis", "namespace": "default", "labels": {"app": "web"}},
             "spec": {
               "assignedDiagnosers": [{"name": "pod-disk-usage-diagnoser", "namespace": "kube-diagnoser"}],
               "assignedInformationCollectors": [{"name": "pod-collector", "namespace": "kube-diagnoser"}],
               "nodeName": "10.177.16.22",
               "skipDiagnosis": false, "skipInformationCollection": false, "skipRecovery": true,
               "source": "Custom"}}""";

    private Samples() {
    }

    /** A complete Avro request for a node, claiming an origin. */
    static AbnormalRequest avroRequest(String nodeName, Origin origin) {
        return AbnormalRequest.newBuilder()
                .setUid("avro-" + nodeName).setNamespace("default").setName("disk-full").setNodeName(nodeName)
                .setOrigin(origin).setRequestedAt(Instant.parse("2026-02-01T10:00:00Z"))
                .setSpec("{\"skipRecovery\":true}").setLabels(Map.of("team", "sre"))
                .build();
    }

    /** A minimal JSON request for a node. */
    static String jsonRequest(String name, String nodeName) {
        return "{\"name\": \"" + name + "\", \"nodeName\": \"" + nodeName + "\", \"spec\": {\"skipRecovery\": true}}";
    }
}
