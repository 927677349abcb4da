package io.kdiag.stageworkers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

class ArgvPatternTest {

    @Test
    void shouldAllowAnythingAfterALiteralPrefix() {
        ArgvPattern journal = ArgvPattern.prefix(List.of("journalctl", "--no-pager"));

        assertThat(journal.matches(List.of("journalctl", "--no-pager"))).isTrue();
        assertThat(journal.matches(List.of("journalctl", "--no-pager", "-n", "10"))).isTrue();
        assertThat(journal.matches(List.of("journalctl", "--rotate"))).isFalse();
        assertThat(journal.matches(List.of("journalctl"))).isFalse();
        assertThat(journal.matches(List.of("/usr/bin/journalctl", "--no-pager"))).as("another spelling of the executable").isFalse();
        assertThat(ArgvPattern.prefix(List.of("uptime")).matches(List.of("uptime", "-s"))).isTrue();
    }

    @Test
    void shouldMatchEachArgumentWholeAndTheirNumberExactly() {
        ArgvPattern ip = ArgvPattern.argv(List.of("ip", "addr|link", "show"));

        assertThat(ip.matches(List.of("ip", "link", "show"))).isTrue();
        assertThat(ip.matches(List.of("ip", "addr", "show"))).isTrue();
        assertThat(ip.matches(List.of("ip", "link", "set"))).isFalse();
        assertThat(ip.matches(List.of("ip", "link", "show", "dev", "eth0"))).as("more arguments than patterns").isFalse();
        assertThat(ip.matches(List.of("ip", "link"))).as("fewer arguments than patterns").isFalse();
        // a pattern matches the whole argument, not a part of it
        assertThat(ip.matches(List.of("ip", "linkx", "show"))).isFalse();
        assertThat(ip.matches(List.of("ip", "xaddr", "show"))).isFalse();
        assertThat(ArgvPattern.argv(List.of("hostname")).matches(List.of("hostname"))).isTrue();
        assertThat(ArgvPattern.argv(List.of("hostname")).matches(List.of("hostname", "evil"))).isFalse();
    }

    @Test
    void shouldRefuseRelativeExecutablesAndBadPatterns() {
        assertThatThrownBy(() -> ArgvPattern.prefix(List.of("bin/x"))).hasMessageContaining("bare name or an absolute path");
        assertThatThrownBy(() -> ArgvPattern.prefix(List.of("/usr/../bin/x"))).hasMessageContaining("bare name or an absolute path");
        assertThatThrownBy(() -> ArgvPattern.argv(List.of())).hasMessageContaining("names its executable first");
        assertThatThrownBy(() -> ArgvPattern.argv(List.of("ip", "(addr"))).hasMessageContaining("'(addr' is not a regular expression");
        assertThat(ArgvPattern.argv(List.of("ip", "addr|link"))).hasToString("argv: [ip, addr|link]");
        assertThat(ArgvPattern.prefix(List.of("df", "-h"))).hasToString("prefix: [df, -h]");
    }
}
