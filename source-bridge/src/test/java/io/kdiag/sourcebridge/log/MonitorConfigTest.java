package io.kdiag.sourcebridge.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.common.config.ConfigException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class MonitorConfigTest {

    /** node-problem-detector's published config/kernel-monitor.json, unchanged. */
    static Path kernelMonitor() {
        try {
            return Path.of(MonitorConfigTest.class.getResource("/npd/kernel-monitor.json").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The reasons of the rules that match after {@code messages} were logged, in order, into a fresh buffer. */
    static List<String> reasons(MonitorConfig monitor, String... messages) {
        LogBuffer buffer = new LogBuffer(monitor.bufferSize());
        for (String message : messages) {
            buffer.push(message);
        }
        return monitor.rules().stream().filter(r -> buffer.match(r) != null).map(MonitorConfig.Rule::reason).toList();
    }

    @Test
    void shouldReadNodeProblemDetectorsKernelMonitorUnchanged() {
        MonitorConfig monitor = MonitorConfig.read(kernelMonitor());

        assertThat(monitor.plugin()).isEqualTo("kmsg");
        assertThat(monitor.logPath()).isEqualTo("/dev/kmsg");
        assertThat(monitor.source()).isEqualTo("kernel-monitor");
        assertThat(monitor.lookback()).isEqualTo(Duration.ofMinutes(5));
        assertThat(monitor.rules()).hasSize(12);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "INFO: task jbd2/sda1-8:312 blocked for more than 120 seconds.|TaskHung",
        "Out of memory: Killed process 1234 (java) total-vm:4862012kB, anon-rss:3045672kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:6340kB oom_score_adj:0|OOMKilling",
        "EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2: comm ls: reading directory lblock 0|Ext4Error",
        "EXT4-fs (sda1): Remounting filesystem read-only|FilesystemIsReadOnly",
        "INFO: task docker:1234 blocked for more than 120 seconds.|TaskHung,DockerHung",
        "unregister_netdevice: waiting for lo to become free. Usage count = 1|UnregisterNetDevice",
    })
    void shouldMatchRealKernelLinesWithNpdsRules(String line, String expected) {
        MonitorConfig monitor = MonitorConfig.read(kernelMonitor());

        assertThat(reasons(monitor, line)).containsExactly(expected.split(","));
    }

    @Test
    void shouldMatchOnlyAtTheEndOfTheMessageAsNpdDoes() {
        MonitorConfig monitor = MonitorConfig.read(kernelMonitor());

        assertThat(reasons(monitor, "INFO: task java:99 blocked for more than 120 seconds. (ignored, see above)")).isEmpty();
        assertThat(reasons(monitor, "systemd[1]: Started Session 3 of user root.")).isEmpty();
    }

    @Test
    void shouldMatchAPatternOverSeveralMessagesAsNpdsBufferDoes() {
        // the two-line OOM rule of node-problem-detector's kernel-monitor.json before 2020
        MonitorConfig monitor = MonitorConfig.parse(Path.of("old-kernel-monitor.json"), """
                {"plugin": "kmsg", "bufferSize": 10, "rules": [{"type": "temporary", "reason": "OOMKilling",
                  "pattern": "Memory cgroup out of memory: Kill process \\\\d+ (.+) score \\\\d+ or sacrifice child\\\\nKilled process \\\\d+ (.+) total-vm:\\\\d+kB, anon-rss:\\\\d+kB, file-rss:\\\\d+kB.*",
                  "patternGeneratedMessageSuffix": "see the node's memory limits"}]}""");
        String first = "Memory cgroup out of memory: Kill process 4242 (java) score 998 or sacrifice child";
        String second = "Killed process 4242 (java) total-vm:4862012kB, anon-rss:3045672kB, file-rss:0kB";
        LogBuffer buffer = new LogBuffer(monitor.bufferSize());
        buffer.push("kernel: eth0: link up");
        buffer.push(first);
        assertThat(buffer.match(monitor.rules().get(0))).isNull();
        buffer.push(second);
        assertThat(buffer.match(monitor.rules().get(0))).isEqualTo(first + "\n" + second + "; see the node's memory limits");
        buffer.push("kernel: eth0: link down");
        assertThat(buffer.match(monitor.rules().get(0))).as("a match must end with the newest message").isNull();
    }

    @Test
    void shouldAppendTheEndAnchorWithoutAGroupAsNpdDoes() {
        MonitorConfig monitor = MonitorConfig.parse(Path.of("m.json"), """
                {"plugin": "kmsg", "rules": [{"type": "temporary", "reason": "Either", "pattern": "alpha|beta"}]}""");
        // alpha|beta\z: alpha anywhere, beta only at the end
        assertThat(reasons(monitor, "alpha, then more")).containsExactly("Either");
        assertThat(reasons(monitor, "beta, then more")).isEmpty();
        assertThat(reasons(monitor, "then beta")).containsExactly("Either");
        // a pattern that starts with ^ never matches while the buffer holds earlier (or not yet filled) slots
        MonitorConfig anchored = MonitorConfig.parse(Path.of("m.json"), """
                {"plugin": "kmsg", "rules": [{"type": "temporary", "reason": "Start", "pattern": "^Remounting"}]}""");
        assertThat(reasons(anchored, "Remounting")).isEmpty();
    }

    @Test
    void shouldRefuseMalformedMonitorsNamingTheProblem() {
        Path file = Path.of("bad.json");
        assertThatThrownBy(() -> MonitorConfig.parse(file, "{\"plugin\": \"kmsg\", \"rules\": ["))
                .isInstanceOf(ConfigException.class).hasMessageContaining("bad.json is not valid JSON");
        assertThatThrownBy(() -> MonitorConfig.parse(file, "{\"plugin\": \"syslog\", \"rules\": []}"))
                .hasMessageContaining("plugin must be kmsg, journald or filelog, not 'syslog'");
        assertThatThrownBy(() -> MonitorConfig.parse(file, "{\"plugin\": \"kmsg\", \"rule\": []}"))
                .hasMessageContaining("unknown field 'rule'");
        assertThatThrownBy(() -> MonitorConfig.parse(file, "{\"plugin\": \"kmsg\", \"rules\": [{\"type\": \"temporary\", \"reason\": \"X\", \"pattern\": \"(\"}]}"))
                .hasMessageContaining("rules[0].pattern is not a valid RE2 regular expression: error parsing regexp: missing closing ): `(\\z`");
        assertThatThrownBy(() -> MonitorConfig.parse(file, "{\"plugin\": \"kmsg\", \"bufferSize\": 0, \"rules\": []}"))
                .hasMessageContaining("bufferSize must be a whole number from 1 to 100, not 0");
        assertThatThrownBy(() -> MonitorConfig.parse(file, "{\"plugin\": \"kmsg\", \"rules\": [{\"type\": \"sometimes\", \"reason\": \"X\", \"pattern\": \"x\"}]}"))
                .hasMessageContaining("rules[0].type must be temporary or permanent");
        assertThatThrownBy(() -> MonitorConfig.parse(file, "{\"plugin\": \"kmsg\", \"lookback\": \"five\", \"rules\": []}"))
                .hasMessageContaining("lookback must be a duration such as 5m");
        assertThatThrownBy(() -> MonitorConfig.parse(file, "{\"plugin\": \"filelog\", \"rules\": []}"))
                .hasMessageContaining("logPath is required for the filelog plugin");
    }

    @Test
    void shouldReadTemplatesAndRefuseUnknownFields() {
        LogTemplates templates = LogTemplates.parse("t.json", """
                {"templates": {"OOMKilling": {"assignedInformationCollectors": [{"namespace": "kube-diagnoser", "name": "process-collector"}],
                                              "context": {"team": "node"}},
                               "*": {"skipRecovery": true}}}""", "kube-diagnoser");

        AbnormalSpec oom = templates.specFor("OOMKilling");
        assertThat(oom.assignedInformationCollectors).extracting(n -> n.name).containsExactly("process-collector");
        assertThat(templates.specFor("TaskHung").skipRecovery).isTrue();
        assertThat(templates.namespace()).isEqualTo("kube-diagnoser");
        assertThatThrownBy(() -> LogTemplates.parse("t.json", "{\"templates\": {\"OOMKilling\": {\"assignedCollectors\": []}}}", "ns"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("unknown field 'templates.OOMKilling.assignedCollectors'");
        assertThatThrownBy(() -> LogTemplates.parse("t.json", "{\"templates\": {\"X\": {\"skipRecovery\": \"maybe\"}}}", "ns"))
                .hasMessageContaining("templates.X is not a valid spec template");
        assertThatThrownBy(() -> LogTemplates.parse("t.json", "[", "ns")).hasMessageContaining("are not valid JSON");
    }
}
