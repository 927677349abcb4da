package io.kdiag.sourcebridge.log;

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the kernel ring buffer, {@code /dev/kmsg} under the host root. Records are
 * {@code priority,sequence,timestamp,flags;message}; continuation lines (starting with a space) are skipped. The checkpoint
 * holds the boot id and the last sequence number handled: after a restart, records up to it are skipped; after a reboot
 * (a new boot id) numbering starts over. Without a checkpoint, records older than the monitor's {@code lookback} (by the
 * host's uptime) are skipped.
 */
final class KmsgFollower implements Follower {
    private static final Logger LOG = LoggerFactory.getLogger(KmsgFollower.class);

    private final MonitorConfig monitor;
    private final Path device;
    private final Path hostRoot;
    private final Checkpoints checkpoints;
    private final LineSink sink;
    private final Duration idle;
    private final String id;
    private BufferedReader reader;
    private String bootId;
    private long lastSequence = -1;
    private long notBeforeMicros = -1;

    KmsgFollower(MonitorConfig monitor, Path hostRoot, Checkpoints checkpoints, LineSink sink, Duration idle) {
        this.monitor = monitor;
        this.hostRoot = hostRoot;
        this.device = LogSource.underRoot(hostRoot, monitor.logPath());
        this.checkpoints = checkpoints;
        this.sink = sink;
        this.idle = idle;
        this.id = monitor.id();
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public void step() throws Exception {
        if (reader == null) {
            open();
        }
        String line;
        try {
            line = reader.readLine();
        } catch (IOException e) {
            // EPIPE: records were overwritten before we read them; the next read continues with the oldest left
            LOG.warn("reading {} failed, going on: {}", device, e.getMessage());
            return;
        }
        if (line == null) {
            Thread.sleep(idle.toMillis()); // a regular file at its end (the device itself blocks instead)
            return;
        }
        if (line.startsWith(" ")) {
            return;
        }
        int semicolon = line.indexOf(';');
        String[] header = semicolon < 0 ? new String[0] : line.substring(0, semicolon).split(",");
        if (header.length < 3) {
            LOG.debug("skipping a kmsg line that is not a record: {}", line);
            return;
        }
        long sequence;
        long micros;
        try {
            sequence = Long.parseLong(header[1]);
            micros = Long.parseLong(header[2]);
        } catch (NumberFormatException e) {
            return;
        }
        if (sequence <= lastSequence || micros < notBeforeMicros) {
            return;
        }
        sink.accept(monitor, List.of(new LogLine("kmsg:" + bootId + ":" + sequence, line.substring(semicolon + 1))));
        lastSequence = sequence;
        Properties checkpoint = new Properties();
        checkpoint.setProperty("bootId", bootId);
        checkpoint.setProperty("sequence", String.valueOf(sequence));
        checkpoints.save(id, checkpoint);
    }

    private void open() throws IOException {
        bootId = read(hostRoot.resolve("proc/sys/kernel/random/boot_id"), "unknown");
        Properties saved = checkpoints.load(id);
        if (!saved.isEmpty() && bootId.equals(saved.getProperty("bootId"))) {
            lastSequence = Long.parseLong(saved.getProperty("sequence"));
        } else if (saved.isEmpty() && monitor.lookback() != null) {
            String uptime = read(hostRoot.resolve("proc/uptime"), null);
            if (uptime != null) {
                double seconds = Double.parseDouble(uptime.split("\\s+")[0]);
                notBeforeMicros = (long) (seconds * 1_000_000) - monitor.lookback().toNanos() / 1_000;
            }
        }
        reader = new BufferedReader(new InputStreamReader(new FileInputStream(device.toFile()), StandardCharsets.UTF_8));
    }

    private static String read(Path file, String otherwise) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            return otherwise;
        }
    }

    @Override
    public void close() throws IOException {
        if (reader != null) {
            reader.close();
        }
    }
}
