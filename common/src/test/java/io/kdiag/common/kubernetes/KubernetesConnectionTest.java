package io.kdiag.common.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import io.kdiag.common.config.ConfigSource;
import org.junit.jupiter.api.Test;

class KubernetesConnectionTest {
    private static final Path HOME = Path.of("/home/someone");

    @Test
    void shouldFindAClusterAsKubectlDoes() {
        assertThat(KubernetesConnection.configuration(Map.of(), p -> false, HOME)).isEmpty();
        assertThat(KubernetesConnection.configuration(Map.of(), Set.of(HOME.resolve(".kube/config"))::contains, HOME))
                .contains("/home/someone/.kube/config");
        assertThat(KubernetesConnection.configuration(Map.of("KUBECONFIG", "/tmp/k"), p -> false, HOME)).contains("$KUBECONFIG=/tmp/k");
        assertThat(KubernetesConnection.configuration(Map.of("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
                Set.of(KubernetesConnection.SERVICE_ACCOUNT_TOKEN)::contains, HOME)).contains("in-cluster service account");
    }

    @Test
    void shouldNotTakeAServiceHostWithoutItsTokenForAPod() {
        assertThat(KubernetesConnection.configuration(Map.of("KUBERNETES_SERVICE_HOST", "10.0.0.1"), p -> false, HOME)).isEmpty();
    }

    @Test
    void shouldDefaultToAutoAndRefuseOtherModes() {
        assertThat(ConfigSource.of(Map.of(), Map.of()).get(KubernetesConnection.KUBERNETES)).isEqualTo(KubernetesConnection.Mode.AUTO);
        assertThat(ConfigSource.of(Map.of("kdiag.kubernetes", " Off "), Map.of()).get(KubernetesConnection.KUBERNETES))
                .isEqualTo(KubernetesConnection.Mode.OFF);
        assertThatThrownBy(() -> ConfigSource.of(Map.of("kdiag.kubernetes", "maybe"), Map.of()).get(KubernetesConnection.KUBERNETES))
                .hasMessageContaining("kdiag.kubernetes").hasMessageContaining("auto, on or off");
    }

    @Test
    void shouldNeverConnectWhenOff() {
        assertThat(KubernetesConnection.connect(KubernetesConnection.Mode.OFF, "test")).isEmpty();
    }
}
