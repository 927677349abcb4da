package io.kdiag.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;

import io.kdiag.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class LauncherTest {

    @Test
    void shouldReadTheConfigFileFromEitherForm() {
        assertThat(Launcher.configFile("x", new String[] {"--config", "/etc/kdiag.properties"})).isEqualTo(Path.of("/etc/kdiag.properties"));
        assertThat(Launcher.configFile("x", new String[] {"--config=/etc/kdiag.properties"})).isEqualTo(Path.of("/etc/kdiag.properties"));
        assertThat(Launcher.configFile("x", new String[0])).isNull();
    }

    @Test
    void shouldRefuseAnyOtherArgumentWithTheUsage() {
        assertThatThrownBy(() -> Launcher.configFile("node-agent", new String[] {"--verbose"}))
                .isInstanceOf(ConfigException.class).hasMessage("usage: node-agent [--config FILE]");
        assertThatThrownBy(() -> Launcher.configFile("node-agent", new String[] {"--config"}))
                .isInstanceOf(ConfigException.class);
    }
}
