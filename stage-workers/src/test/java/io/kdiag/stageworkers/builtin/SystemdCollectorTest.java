package io.kdiag.stageworkers.builtin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import io.kdiag.stageworkers.spi.WorkResult;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SystemdCollectorTest {
    private static final String KUBELET_SHOW = "Type=simple\nRestart=always\nMainPID=1234\nActiveState=active\n"
            + "ExecStart={ path=/usr/bin/kubelet ; argv[]=/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml ; }\n"
            + "Environment=A=1 B=2\n";

    @TempDir
    Path root;

    private static Map<String, Object> units(Object names) {
        return Map.of("systemdUnitNameInformationContextKey", names);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> properties(WorkResult result) {
        assertThat(result.succeeded()).as(result.toString()).isTrue();
        return (List<Map<String, Object>>) result.contextUpdates().get("systemdUnitPropertyInformationContextKey");
    }

    @Test
    void shouldParseEveryPropertyOfEachUnitThroughNsenterFromAContainer() throws Exception {
        Contexts.FakeRunner runner = new Contexts.FakeRunner(c -> Contexts.ok(c,
                c.get(c.size() - 1).equals("kubelet") ? KUBELET_SHOW : "Version=252.22\nNNames=310\n"));

        WorkResult result = new SystemdCollector(runner).run(Contexts.at(root, units(List.of("kubelet", "")), null));

        assertThat(runner.commands).containsExactly(
                List.of("nsenter", "-t", "1", "-m", "-u", "-i", "-n", "-p", "--", "systemctl", "show", "--no-pager", "kubelet"),
                List.of("nsenter", "-t", "1", "-m", "-u", "-i", "-n", "-p", "--", "systemctl", "show", "--no-pager"));
        List<Map<String, Object>> units = properties(result);
        assertThat(units).extracting(u -> u.get("name")).containsExactly("kubelet", "");
        assertThat(units.get(0).get("properties")).isEqualTo(List.of(
                Map.of("name", "Type", "value", "simple"), Map.of("name", "Restart", "value", "always"),
                Map.of("name", "MainPID", "value", "1234"), Map.of("name", "ActiveState", "value", "active"),
                Map.of("name", "ExecStart", "value", "{ path=/usr/bin/kubelet ; argv[]=/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml ; }"),
                Map.of("name", "Environment", "value", "A=1 B=2")));
        assertThat(units.get(1).get("properties")).isEqualTo(List.of(Map.of("name", "Version", "value", "252.22"),
                Map.of("name", "NNames", "value", "310")));
        assertThat(result.contextUpdates()).doesNotContainKey("systemdUnitErrors");
    }

    @Test
    void shouldRunSystemctlDirectlyOnTheHostAndTakeTheOriginalsCommaSeparatedForm() throws Exception {
        Contexts.FakeRunner runner = new Contexts.FakeRunner(c -> Contexts.ok(c, "Id=x\n"));

        new SystemdCollector(runner).run(Contexts.at(Path.of("/"), units("kubelet,docker,"), null));

        assertThat(runner.commands).containsExactly(List.of("systemctl", "show", "--no-pager", "kubelet"),
                List.of("systemctl", "show", "--no-pager", "docker"), List.of("systemctl", "show", "--no-pager"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void shouldSkipAFailingOrTimedOutUnitWithANote() throws Exception {
        Contexts.FakeRunner runner = new Contexts.FakeRunner(c -> switch (c.get(c.size() - 1)) {
            case "kubelet" -> Contexts.ok(c, KUBELET_SHOW);
            case "slow" -> Contexts.timedOut(c, 10);
            default -> Contexts.failed(c, "Failed to connect to bus");
        });

        WorkResult result = new SystemdCollector(runner).run(Contexts.at(root, units(List.of("slow", "kubelet", "bad")), null));

        assertThat(properties(result)).extracting(u -> u.get("name")).containsExactly("kubelet");
        assertThat(result.contextUpdates().get("systemdUnitErrors")).asList().hasSize(2)
                .satisfiesExactly(
                        e -> assertThat((Map<String, Object>) e).containsEntry("name", "slow").extractingByKey("error").asString().contains("timed out"),
                        e -> assertThat((Map<String, Object>) e).containsEntry("name", "bad").extractingByKey("error").asString()
                                .contains("exit code 1", "Failed to connect to bus"));
    }

    @Test
    void shouldFailWhenNoUnitCanBeRead() throws Exception {
        Contexts.FakeRunner runner = new Contexts.FakeRunner(c -> Contexts.failed(c, "nsenter: Operation not permitted"));

        WorkResult result = new SystemdCollector(runner).run(Contexts.at(root, units(List.of("kubelet")), null));

        assertThat(result.reason()).isEqualTo("SystemdUnavailable");
        assertThat(result.message()).contains("Operation not permitted");
    }

    @Test
    void shouldRefuseMissingOrMalformedInputBeforeRunningAnything() throws Exception {
        Contexts.FakeRunner runner = new Contexts.FakeRunner(c -> Contexts.ok(c, ""));
        SystemdCollector collector = new SystemdCollector(runner);

        WorkResult missing = collector.run(Contexts.at(root, null, null));
        WorkResult notNames = collector.run(Contexts.at(root, units(List.of(1, 2)), null));
        WorkResult option = collector.run(Contexts.at(root, units(List.of("kubelet", "--property=x")), null));

        assertThat(missing.reason()).isEqualTo("MissingInput");
        assertThat(missing.message()).contains("systemdUnitNameInformationContextKey");
        assertThat(notNames.reason()).isEqualTo("InvalidInput");
        assertThat(option.reason()).isEqualTo("InvalidInput");
        assertThat(runner.commands).isEmpty();
    }

    @Test
    @SuppressWarnings("unchecked")
    void shouldReadTheRealSystemdOfThisHost() throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/run/systemd/system")), "systemd is not running here");

        WorkResult result = new SystemdCollector().run(Contexts.at(Path.of("/"), units(List.of("")), null));

        assertThat(properties(result).get(0).get("properties")).asList()
                .anySatisfy(p -> assertThat((Map<String, Object>) p).containsEntry("name", "Version"));
    }
}
