package io.kdiag.allinone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import io.kdiag.testkit.HostAddresses;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code kdiag up} opens: every listener (Kafka, bridge, agent, status writer, metrics) on 127.0.0.1 only, so
 * nobody on the network reaches the agent, which runs as this machine's user. The stack makes its signing key and its
 * read-only policy in its data folder.
 */
class LocalStackIT {
    @TempDir
    Path data;

    @Test
    void shouldListenOnLoopbackOnlyAndKeepItsKeyAndPolicyInItsData() throws Exception {
        InetAddress external = HostAddresses.nonLoopback().orElse(null);
        assumeTrue(external != null, "this machine has a non-loopback address");
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (String listener : new String[] {"kafka", "metrics", "agent", "bridge", "status-writer"}) {
            ports.put(listener, freePort());
        }

        try (LocalStack stack = LocalStack.start(data, new LocalStack.Ports(ports.get("kafka"), ports.get("metrics"), ports.get("agent"),
                ports.get("bridge"), ports.get("status-writer")), LocalStack.LOOPBACK, null, Map.of())) {
            for (Map.Entry<String, Integer> port : ports.entrySet()) {
                assertThat(accepts(InetAddress.getLoopbackAddress(), port.getValue())).as(port.getKey() + " on loopback").isTrue();
                assertThat(accepts(external, port.getValue())).as(port.getKey() + " on " + external.getHostAddress()).isFalse();
            }
            assertThat(stack.bootstrapServers()).isEqualTo("127.0.0.1:" + ports.get("kafka"));
        }
        assertThat(data.resolve("keys/signing-key.pem")).exists();
        assertThat(data.resolve("keys/signing-key.pub")).exists();
        assertThat(Files.readString(data.resolve("agent-policy.yaml"))).isEqualTo(LocalStack.LOCAL_POLICY);
    }

    private static boolean accepts(InetAddress address, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(address, port), 2000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

}
