package io.kdiag.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Where a running {@code kdiag up} can be reached: written by {@code up}, read by {@code submit} and {@code get} so
 * they need no flags on the same machine.
 *
 * @param bootstrapServers Kafka bootstrap servers
 * @param nodeName the node the local agent serves
 * @param topicPrefix prefix of the topic names
 */
public record StackFile(String bootstrapServers, String nodeName, String topicPrefix) {
    static final String NAME = "stack.properties";

    public void write(Path home) {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", bootstrapServers);
        p.setProperty("node.name", nodeName);
        p.setProperty("topic.prefix", topicPrefix);
        try (Writer w = Files.newBufferedWriter(home.resolve(NAME))) {
            p.store(w, "kdiag up is running with these settings");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static StackFile read(Path home) {
        Path file = home.resolve(NAME);
        if (!Files.exists(file)) {
            return null;
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new StackFile(p.getProperty("bootstrap.servers"), p.getProperty("node.name"), p.getProperty("topic.prefix"));
    }

    public static void delete(Path home) {
        try {
            Files.deleteIfExists(home.resolve(NAME));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
