package io.kdiag.allinone;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import io.kdiag.nodeagent.policy.Policy;
import io.kdiag.schemas.avro.Origin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The local stack's read-only policy: the read-only invocations of its tools run, every form that changes the machine is refused. */
class LocalPolicyTest {
    private static final Policy LOCAL = Policy.parse(LocalStack.LOCAL_POLICY, "LocalStack.LOCAL_POLICY");

    private static String refusal(String command) {
        return LOCAL.command("default", Origin.IngestTopic, List.of(command.split(" ")));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "uname -a", "uptime", "df -h /", "free -m", "ps -eo pid,comm", "id", "lsblk",
        "hostname", "hostname -f", "hostname -I", "hostname --fqdn",
        "ss", "ss -tlnp", "ss -s",
        "ip a", "ip addr", "ip addr show", "ip link", "ip link show", "ip route", "ip -s link", "ip -4 addr show", "ip -br a", "ip neigh",
        "ip rule list",
        "dmesg", "dmesg -T", "dmesg -x",
        "journalctl --no-pager -n 100", "journalctl --no-pager -k -n 50", "journalctl --no-pager -u kubelet.service -n 200",
        "journalctl --no-pager -b -n 20"})
    void shouldRunTheReadOnlyInvocations(String command) {
        assertThat(refusal(command)).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        // ip: every verb that changes links, addresses, routes, neighbours, rules or namespaces, and batches of them
        "ip link set eth0 down", "ip link set dev eth0 mtu 1", "ip link add dummy0 type dummy", "ip link del eth0",
        "ip addr add 10.0.0.1/24 dev eth0", "ip addr del 10.0.0.1/24 dev eth0", "ip addr flush dev eth0", "ip a flush eth0",
        "ip route add default via 10.0.0.1", "ip route del default", "ip route flush table main", "ip route replace default via 10.0.0.2",
        "ip route change default via 10.0.0.2", "ip neigh add 10.0.0.2 lladdr 00:11:22:33:44:55 dev eth0", "ip neigh flush all",
        "ip rule add from all lookup 100", "ip netns add x", "ip -batch /tmp/commands", "ip -b /tmp/commands", "ip -force -batch -",
        "ip tunnel add t0 mode gre", "ip xfrm state flush",
        // hostname: setting it, from an argument or a file
        "hostname evil", "hostname -b evil", "hostname -F /tmp/name", "hostname --file /tmp/name", "hostname -f evil",
        // dmesg: clearing the ring buffer, switching the console
        "dmesg -C", "dmesg -c", "dmesg --clear", "dmesg --read-clear", "dmesg -D", "dmesg -E", "dmesg -n 1", "dmesg --console-off",
        "dmesg -Tc",
        // journalctl: rotating, vacuuming, flushing, syncing, moving the journal, writing a cursor file
        "journalctl --rotate", "journalctl --vacuum-size=1K", "journalctl --vacuum-time=1s", "journalctl --vacuum-files=1",
        "journalctl --flush", "journalctl --sync", "journalctl --relinquish-var", "journalctl --setup-keys",
        "journalctl --no-pager -n 10 --rotate", "journalctl --no-pager -u --rotate -n 10", "journalctl --cursor-file=/etc/passwd",
        "journalctl --no-pager -n 10 --cursor-file=/tmp/c",
        // ss: killing sockets, dumping to a file
        "ss -K", "ss -tK", "ss -D /tmp/dump",
        // and the tools the list never held
        "rm -rf /", "sh -c id", "kill -9 1", "dd if=/dev/zero of=/dev/null count=1"})
    void shouldRefuseEveryFormThatChangesTheMachine(String command) {
        assertThat(refusal(command)).as(command)
                .isEqualTo(command + " has none of the forms of the commandAllowlist of policy LocalStack.LOCAL_POLICY");
    }

    @Test
    void shouldGrantNothingToAnUnknownOrigin() {
        assertThat(LOCAL.command("default", Origin.Unknown, List.of("uptime"))).contains("no grant");
        assertThat(LOCAL.processor("default", Origin.Unknown, "kube-diagnoser", "process-collector")).contains("no grant");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Log", "KubernetesEvent", "PrometheusAlert"})
    void shouldGrantTheStacksOwnSourcesTheReadOnlyBuiltInsOnly(String origin) {
        // the rule files and the log source of kdiag up start abnormals of these origins
        assertThat(LOCAL.processor("kube-diagnoser", Origin.valueOf(origin), "kube-diagnoser", "process-collector")).isNull();
        assertThat(LOCAL.processor("kube-diagnoser", Origin.valueOf(origin), "kube-diagnoser", "signal-recoverer")).contains("no grant");
        assertThat(LOCAL.profiler("kube-diagnoser", Origin.valueOf(origin), "java")).contains("no grant");
    }

    @Test
    void shouldGrantTheReadOnlyBuiltInsButNoRecovererSignalOrProfiler() {
        assertThat(LOCAL.processor("default", Origin.IngestTopic, "kube-diagnoser", "signal-recoverer")).contains("no grant");
        assertThat(LOCAL.processor("default", Origin.IngestTopic, "kube-diagnoser", "process-collector")).isNull();
        assertThat(LOCAL.processor("default", Origin.CustomResource, "kube-diagnoser", "process-match-diagnoser")).isNull();
        assertThat(LOCAL.profiler("default", Origin.IngestTopic, "java")).contains("no grant");
        assertThat(LOCAL.signals(List.of(java.util.Map.of("pid", 999_999, "signal", 15)), ProcessHandle.current().pid()))
                .contains("not in the allowedSignals []");
    }
}
