package io.kdiag.sourcebridge.log;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * Follows the systemd journal through {@code journalctl -f -o json}, from the saved cursor
 * ({@code --after-cursor}) or, on a first start, from now ({@code -n 0}); the journal directory under the host root is
 * passed with {@code -D} when it exists, and the monitor's {@code pluginConfig.source} as a {@code SYSLOG_IDENTIFIER}
 * match, as NPD's journald plugin does. The checkpoint is the cursor of the last entry handled. When journalctl ends it
 * is started again from the checkpoint.
 */
final class JournalFollower implements Follower {
    private static final Logger LOG = LoggerFactory.getLogger(JournalFollower.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final MonitorConfig monitor;
    private final Path hostRoot;
    private final String journalctl;
    private final Checkpoints checkpoints;
    private final LineSink sink;
    private final Duration idle;
    private final String id;
    private Process process;
    private BufferedReader output;

    JournalFollower(MonitorConfig monitor, Path hostRoot, String journalctl, Checkpoints checkpoints, LineSink sink, Duration idle) {
        this.monitor = monitor;
        this.hostRoot = hostRoot;
        this.journalctl = journalctl;
        this.checkpoints = checkpoints;
        this.sink = sink;
        this.idle = idle;
        this.id = monitor.id();
    }

    @Override
    public String id() {
        return id;
    }

    /** The journalctl command line for a saved cursor (or none). */
    List<String> command(String cursor) {
        List<String> command = new ArrayList<>(List.of(journalctl, "-f", "-o", "json", "--no-pager"));
        if (cursor != null) {
            command.add("--after-cursor=" + cursor);
        } else {
            command.addAll(List.of("-n", "0"));
        }
        Path directory = LogSource.underRoot(hostRoot, monitor.logPath());
        if (Files.isDirectory(directory)) {
            command.addAll(List.of("-D", directory.toString()));
        }
        if (monitor.journalIdentifier() != null && !monitor.journalIdentifier().isBlank()) {
            command.add("SYSLOG_IDENTIFIER=" + monitor.journalIdentifier());
        }
        return command;
    }

    @Override
    public void step() throws Exception {
        if (process == null) {
            String cursor = checkpoints.load(id).getProperty("cursor");
            process = new ProcessBuilder(command(cursor)).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            output = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }
        String line = output.readLine();
        if (line == null) {
            int status = process.waitFor();
            LOG.warn("journalctl ended status={}; starting it again from the checkpoint", status);
            close();
            Thread.sleep(idle.toMillis());
            return;
        }
        Map<?, ?> entry;
        try {
            entry = JSON.readValue(line, Map.class);
        } catch (JacksonException e) {
            LOG.warn("skipping a journal line that is not JSON: {}", e.getOriginalMessage());
            return;
        }
        Object cursor = entry.get("__CURSOR");
        String message = message(entry.get("MESSAGE"));
        if (!(cursor instanceof String c)) {
            return;
        }
        if (message != null) {
            sink.accept(monitor, List.of(new LogLine("journal:" + c, message)));
        }
        Properties checkpoint = new Properties();
        checkpoint.setProperty("cursor", c);
        checkpoints.save(id, checkpoint);
    }

    /** journald writes MESSAGE as a string, or as a list of byte values when it is not valid UTF-8. */
    static String message(Object value) {
        if (value instanceof String s) {
            return s;
        }
        if (value instanceof List<?> list) {
            byte[] bytes = new byte[list.size()];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = ((Number) list.get(i)).byteValue();
            }
            return new String(bytes, StandardCharsets.UTF_8);
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        if (process != null) {
            process.destroy();
            output.close();
            process = null;
        }
    }
}
