package io.kdiag.embedded;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/**
 * A single-node Kafka broker (combined KRaft broker and controller) running in this JVM: the real broker code, with
 * its data in a folder of its own. Started on an existing folder it keeps the topics and records it had.
 *
 * <p>Settings that a one-node cluster needs (replication factor 1 for the internal topics, no initial rebalance
 * delay) are set here; without them consumer groups and transactions hang. Broker heartbeats are frequent, so a start
 * or a stop waits half a second for one instead of two.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private static final String LOOPBACK = "127.0.0.1";
    private final KafkaRaftServer server;
    private final String bootstrapServers;
    private final Path dataDir;
    private final boolean temporary;

    private EmbeddedKafka(KafkaRaftServer server, String bootstrapServers, Path dataDir, boolean temporary) {
        this.server = server;
        this.bootstrapServers = bootstrapServers;
        this.dataDir = dataDir;
        this.temporary = temporary;
    }

    /**
     * Starts a broker whose clients reach it on 127.0.0.1 only.
     *
     * @param dataDir where the log and metadata live; formatted on first use, reused afterwards
     * @param port the client port on 127.0.0.1; 0 picks a free one
     * @param overrides broker settings that replace the defaults
     */
    public static EmbeddedKafka start(Path dataDir, int port, Map<String, String> overrides) {
        return start(dataDir, LOOPBACK, port, overrides, false);
    }

    /**
     * Starts a broker whose client listener binds {@code host}; it is advertised as {@code host}, or as this machine's
     * name when {@code host} is every interface ({@code 0.0.0.0}). The controller stays on 127.0.0.1.
     *
     * @param port the client port; 0 picks a free one
     */
    public static EmbeddedKafka start(Path dataDir, String host, int port, Map<String, String> overrides) {
        return start(dataDir, host, port, overrides, false);
    }

    private static EmbeddedKafka start(Path dataDir, String host, int port, Map<String, String> overrides, boolean temporary) {
        try {
            Files.createDirectories(dataDir);
            int[] free = freePorts(port);
            int clientPort = port == 0 ? free[0] : port;
            int controllerPort = free[1];
            String advertised = InetAddress.getByName(host).isAnyLocalAddress() ? InetAddress.getLocalHost().getHostName() : host;
            Properties p = new Properties();
            p.put("process.roles", "broker,controller");
            p.put("node.id", "1");
            p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
            p.put("listeners", "PLAINTEXT://" + host + ":" + clientPort + ",CONTROLLER://" + LOOPBACK + ":" + controllerPort);
            p.put("advertised.listeners", "PLAINTEXT://" + advertised + ":" + clientPort);
            p.put("controller.listener.names", "CONTROLLER");
            p.put("listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT");
            p.put("inter.broker.listener.name", "PLAINTEXT");
            p.put("log.dirs", dataDir.resolve("log").toString());
            p.put("num.partitions", "1");
            p.put("offsets.topic.replication.factor", "1");
            p.put("offsets.topic.num.partitions", "1");
            p.put("transaction.state.log.replication.factor", "1");
            p.put("transaction.state.log.min.isr", "1");
            p.put("transaction.state.log.num.partitions", "1");
            p.put("share.coordinator.state.topic.replication.factor", "1");
            p.put("share.coordinator.state.topic.min.isr", "1");
            p.put("group.initial.rebalance.delay.ms", "0");
            // the broker is unfenced (serves clients) on its first heartbeat after catching up, one interval later, and
            // a controlled shutdown waits for a heartbeat too: 2 s each by default. Not much shorter: the controller
            // drops a heartbeat that waited half an interval in its queue, which a busy machine can take.
            p.put("broker.heartbeat.interval.ms", "500");
            p.put("auto.create.topics.enable", "false");
            p.put("log.flush.interval.messages", String.valueOf(Long.MAX_VALUE));
            p.putAll(overrides);

            Path config = dataDir.resolve("server.properties");
            try (Writer w = Files.newBufferedWriter(config)) {
                p.store(w, "written by kdiag for the embedded broker");
            }
            if (!Files.exists(dataDir.resolve("log").resolve("meta.properties"))) {
                format(config);
            }
            KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(p, false), Time.SYSTEM);
            server.startup();
            return new EmbeddedKafka(server, advertised + ":" + clientPort, dataDir, temporary);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the embedded Kafka broker in " + dataDir, e);
        }
    }

    /** Starts a broker on a fresh temporary folder and a free port; the folder is deleted on {@link #close()}. */
    public static EmbeddedKafka startTemporary() {
        try {
            return start(Files.createTempDirectory("kdiag-kafka-"), LOOPBACK, 0, Map.of(), true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void format(Path config) {
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        int rc = StorageTool.execute(new String[] {"format", "-t", Uuid.randomUuid().toString(), "-c", config.toString()}, quiet);
        if (rc != 0) {
            throw new IllegalStateException("formatting the embedded broker's storage failed with exit code " + rc);
        }
    }

    /** {@code host:port} for clients. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** The folder holding the broker's data. */
    public Path dataDir() {
        return dataDir;
    }

    /** Stops the broker and waits until it has shut down; the data stays, unless the folder was temporary. */
    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
        if (temporary) {
            try (Stream<Path> walk = Files.walk(dataDir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete the temporary broker folder " + dataDir, e);
            }
        }
    }

    /**
     * Two free ports, both held open while picked so that they differ from each other, and the second differs from
     * {@code taken}: picked one after the other, the system may give the same port twice.
     */
    private static int[] freePorts(int taken) throws IOException {
        try (ServerSocket first = new ServerSocket(0); ServerSocket second = new ServerSocket(0)) {
            if (second.getLocalPort() == taken) {
                return new int[] {second.getLocalPort(), first.getLocalPort()};
            }
            return new int[] {first.getLocalPort(), second.getLocalPort()};
        }
    }
}
