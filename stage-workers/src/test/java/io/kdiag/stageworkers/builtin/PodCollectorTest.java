package io.kdiag.stageworkers.builtin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.Pod;
import io.kdiag.api.ApiSerialization;
import io.kdiag.stageworkers.spi.PodSource;
import io.kdiag.stageworkers.spi.WorkResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PodCollectorTest {
    @TempDir
    Path root;

    private final PodCollector collector = new PodCollector();

    @Test
    @SuppressWarnings("unchecked")
    void shouldListThePodsOfTheNodeAsPlainJsonOrderedByNamespaceAndName() {
        Pod web = Pods.pod("default", "web", "uid-web", "10.177.16.22");
        Pod flannel = Pods.pod("kube-system", "kube-flannel-ds-amd64-qdjtb", "uid-flannel", "10.177.16.22");
        Pod api = Pods.pod("default", "api", "uid-api", "10.177.16.22");

        WorkResult result = collector.run(Contexts.with(root, Pods.source(List.of(flannel, web, api)), null, null));

        assertThat(result.succeeded()).isTrue();
        List<Object> pods = (List<Object>) result.contextUpdates().get("podInformation");
        assertThat(pods).allSatisfy(p -> assertThat(p).isInstanceOf(Map.class));
        assertThat(pods).extracting(p -> ((Map<String, Object>) ((Map<String, Object>) p).get("metadata")).get("name"))
                .containsExactly("api", "web", "kube-flannel-ds-amd64-qdjtb");
        Map<String, Object> first = (Map<String, Object>) pods.get(0);
        assertThat(first).containsEntry("apiVersion", "v1").containsEntry("kind", "Pod");
        assertThat((Map<String, Object>) first.get("spec")).containsEntry("nodeName", "10.177.16.22");
        // plain JSON: it reads back as the same pod
        assertThat(ApiSerialization.convert(first, Pod.class)).isEqualTo(api);
        assertThat(ApiSerialization.jsonObject(ApiSerialization.json(first))).isEqualTo(first);
    }

    @Test
    void shouldSucceedWithAnEmptyListOnANodeWithoutPods() {
        WorkResult result = collector.run(Contexts.with(root, Pods.source(List.of()), null, null));

        assertThat(result.contextUpdates()).containsEntry("podInformation", List.of());
    }

    @Test
    void shouldFailWithNoClusterWhenThePodSourceIsUnavailable() {
        WorkResult result = collector.run(Contexts.with(root, PodSource.NONE, null, null));

        assertThat(result.succeeded()).isFalse();
        assertThat(result.reason()).isEqualTo("NoCluster");
        assertThat(result.message()).contains("without a cluster");
    }
}
