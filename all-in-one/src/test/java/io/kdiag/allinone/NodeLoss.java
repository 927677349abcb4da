package io.kdiag.allinone;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

import io.kdiag.common.config.ConfigSource;
import io.kdiag.testkit.TestKeys;

/** What the tests of evidence that outlives its node share: one node's components, and the loss of its files. */
final class NodeLoss {
    private NodeLoss() {
    }

    /**
     * A component's configuration on node {@code node}: {@code own} plus a free HTTP port, no cluster, and the test keys
     * (the bridge signs what it forwards; the agent runs only what it verifies).
     */
    static ConfigSource config(String node, Map<String, String> own) {
        Map<String, String> env = new HashMap<>(own);
        env.put("KDIAG_NODE_NAME", node);
        env.put("KDIAG_HTTP_PORT", "0");
        env.put("KDIAG_KUBERNETES", "off");
        env.put("KDIAG_SIGNING_KEY", TestKeys.signingKeyFile().toString());
        env.put("KDIAG_VERIFICATION_KEYS", TestKeys.verificationKeyFile().toString());
        return ConfigSource.of(Map.of(), env);
    }

    /** Deletes a folder and everything in it: what the node had. */
    static void deleteTree(Path root) throws Exception {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** Closes each, in order, whatever the others do. */
    static void closeAll(AutoCloseable... closeables) {
        for (AutoCloseable c : closeables) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // keep closing the rest
            }
        }
    }
}
