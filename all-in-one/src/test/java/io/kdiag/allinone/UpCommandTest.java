package io.kdiag.allinone;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

class UpCommandTest {
    @Test
    void shouldSayAtStartThatAKubeconfigIsIgnored() {
        assertThat(UpCommand.kubernetesLine(Map.of("KUBECONFIG", "/home/me/.kube/config")))
                .startsWith("Kubernetes: not used").contains("KUBECONFIG=/home/me/.kube/config is ignored");
        assertThat(UpCommand.kubernetesLine(Map.of())).startsWith("Kubernetes: not used").doesNotContain("ignored");
    }

    @Test
    void shouldSayWhenAskedToUseACluster() {
        assertThat(UpCommand.kubernetesLine(Map.of("KDIAG_KUBERNETES", "auto"))).isEqualTo(
                "Kubernetes: kdiag.kubernetes=auto (Abnormal resources, pods and registrations of that cluster are used)");
    }
}
