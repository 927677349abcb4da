package io.kdiag.sourcebridge.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import com.google.re2j.Matcher;

/**
 * Follows one log file with {@code tail -F} semantics: it survives rotation (a new inode at the path: the old file is read
 * to its end first) and truncation (the size falls below the offset: it starts again at 0). The checkpoint holds the
 * inode and the offset after the last complete line handled, so a restart continues exactly there; without a
 * checkpoint it starts at the current end.
 */
final class FileFollower implements Follower {
    private static final int CHUNK = 64 * 1024;

    private final MonitorConfig monitor;
    private final Path file;
    private final Checkpoints checkpoints;
    private final LineSink sink;
    private final String id;
    private FileChannel channel;
    private long inode = -1;
    private long position;
    private boolean createdAfterStart;

    FileFollower(MonitorConfig monitor, Path file, Checkpoints checkpoints, LineSink sink) {
        this.monitor = monitor;
        this.file = file;
        this.checkpoints = checkpoints;
        this.sink = sink;
        this.id = monitor.id();
    }

    @Override
    public String id() {
        return id;
    }

    /** One round: reads what is new, then checks for rotation and truncation. */
    @Override
    public void step() throws Exception {
        long current;
        try {
            current = inode(file);
        } catch (NoSuchFileException e) {
            // rotated away and not created again yet (the old file was read to its end before), or not there yet
            createdAfterStart |= channel == null;
            return;
        }
        if (channel == null) {
            open(current);
        }
        drain();
        if (current != inode) {
            // rotated: what was appended to the old file before the rename has just been drained
            channel.close();
            channel = FileChannel.open(file);
            inode = current;
            position = 0;
            save();
            drain();
        } else if (channel.size() < position) {
            position = 0; // truncated in place (copytruncate)
            save();
            drain();
        }
    }

    private void open(long current) throws IOException {
        channel = FileChannel.open(file);
        Properties saved = checkpoints.load(id);
        inode = current;
        if (saved.isEmpty()) {
            // a first start reports what happens from now on: all of a file that appeared after it
            position = createdAfterStart ? 0 : channel.size();
        } else if (Long.parseLong(saved.getProperty("inode")) == current) {
            long offset = Long.parseLong(saved.getProperty("offset"));
            position = offset <= channel.size() ? offset : 0;
        } else {
            position = 0; // rotated while we were down: the new file is all new
        }
        save();
    }

    private void drain() throws Exception {
        while (true) {
            ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
            int read = channel.read(buffer, position);
            if (read <= 0) {
                return;
            }
            byte[] bytes = new byte[read];
            buffer.flip();
            buffer.get(bytes);
            List<LogLine> lines = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < read; i++) {
                if (bytes[i] == '\n') {
                    String line = new String(bytes, start, i - start, StandardCharsets.UTF_8);
                    String message = message(line);
                    if (message != null) {
                        lines.add(new LogLine(id + ":" + inode + ":" + (position + start), message));
                    }
                    start = i + 1;
                }
            }
            if (start == 0) {
                if (read == CHUNK) {
                    // a line longer than a chunk: handle what there is rather than stall on it
                    lines.add(new LogLine(id + ":" + inode + ":" + position, new String(bytes, StandardCharsets.UTF_8)));
                    start = read;
                } else {
                    return; // only part of a line so far
                }
            }
            if (!lines.isEmpty()) {
                sink.accept(monitor, lines);
            }
            position += start;
            save();
        }
    }

    /** The message of a line: all of it, or the first group of the filelog plugin's message pattern (no match: skipped). */
    private String message(String line) {
        String text = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
        if (monitor.messagePattern() == null) {
            return text;
        }
        Matcher matcher = monitor.messagePattern().matcher(text);
        return matcher.find() ? matcher.group(1) : null;
    }

    private void save() {
        Properties checkpoint = new Properties();
        checkpoint.setProperty("inode", String.valueOf(inode));
        checkpoint.setProperty("offset", String.valueOf(position));
        checkpoints.save(id, checkpoint);
    }

    private static long inode(Path path) throws IOException {
        return ((Number) Files.getAttribute(path, "unix:ino")).longValue();
    }

    @Override
    public void close() throws IOException {
        if (channel != null) {
            channel.close();
        }
    }
}
