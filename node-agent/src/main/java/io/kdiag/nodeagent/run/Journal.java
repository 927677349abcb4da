package io.kdiag.nodeagent.run;

import java.io.Closeable;
import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.ProcessorStarted;
import io.kdiag.schemas.avro.Stage;

/**
 * The agent's memory across restarts, one append-only file with a line per event and per finished abnormal:
 * <pre>
 * S &lt;uid&gt; &lt;seq&gt; &lt;event type&gt; [&lt;recoverer&gt;]   written before the event is sent
 * D &lt;uid&gt; [&lt;seq&gt;]                          written once the abnormal's last event is acknowledged
 * </pre>
 * A seq is journaled before it is sent, so a seq that may have reached Kafka is never used again, even after
 * {@code kill -9}. An abnormal with a {@code D} line never runs again; one without is unfinished and is ended by the
 * next start. Each line is written to the OS as it comes, which survives a crash of the process; the line that marks a
 * recoverer as started is also forced to the disk ({@link FileChannel#force}) before {@link #reserve} returns, so it
 * survives a power loss too, and a recoverer is never run twice even then. On open the file is compacted to one line
 * per abnormal, keeping the most recent {@value #MAX_FINISHED} finished ones; the compacted file is forced to the disk
 * before it replaces the journal.
 */
public final class Journal implements Closeable {
    static final int MAX_FINISHED = 50_000;
    private static final String FILE = "journal";

    /**
     * What the journal knows of one abnormal.
     *
     * @param lastSeq the highest seq reserved
     * @param finished whether its last event was acknowledged
     * @param runningRecoverer the recoverer started and not finished, as {@code namespace/name}; {@code null} if none
     */
    record Entry(long lastSeq, boolean finished, String runningRecoverer) {
        /** Whether nothing but Accepted (seq 0) was reserved: no processor or command had started. */
        boolean onlyAccepted() {
            return !finished && lastSeq == 0;
        }
    }

    private final Path file;
    private final Map<String, Entry> entries;
    private final FileChannel channel;

    private Journal(Path file, Map<String, Entry> entries, FileChannel channel) {
        this.file = file;
        this.entries = entries;
        this.channel = channel;
    }

    /** Opens the journal file for appending; a test may watch what is forced to the disk. */
    @FunctionalInterface
    interface Appender {
        FileChannel open(Path file) throws IOException;
    }

    /** Reads and compacts the journal in {@code dir}, creating both if needed. */
    public static Journal open(Path dir) throws IOException {
        return open(dir, file -> FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND));
    }

    static Journal open(Path dir, Appender appender) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(FILE);
        Map<String, Entry> entries = new LinkedHashMap<>();
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                apply(entries, line);
            }
        }
        trimFinished(entries);
        Path compacted = dir.resolve(FILE + ".compacting");
        StringBuilder text = new StringBuilder();
        entries.forEach((uid, entry) -> text.append(line(uid, entry)).append('\n'));
        try (FileChannel out = FileChannel.open(compacted, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            write(out, text.toString());
            // the old journal is replaced by this one: it must be whole on the disk first
            out.force(true);
        }
        Files.move(compacted, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        // and the rename itself on the disk, or a power loss could bring back the journal of before
        try (FileChannel folder = FileChannel.open(dir, StandardOpenOption.READ)) {
            folder.force(true);
        }
        return new Journal(file, entries, appender.open(file));
    }

    /**
     * Records that {@code seq} of {@code uid} is about to be sent with this payload; a recoverer's {@code ProcessorStarted}
     * is on the disk when this returns.
     */
    public synchronized void reserve(String uid, long seq, Object payload) throws IOException {
        String recoverer = null;
        Entry previous = entries.get(uid);
        if (previous != null) {
            recoverer = previous.runningRecoverer();
        }
        String detail = "";
        if (payload instanceof ProcessorStarted started && started.getStage() == Stage.Recovery) {
            recoverer = started.getProcessor().getNamespace() + "/" + started.getProcessor().getName();
            detail = " " + encode(recoverer);
        } else if (payload instanceof ProcessorFinished finished && finished.getStage() == Stage.Recovery) {
            recoverer = null;
        }
        append("S " + encode(uid) + " " + seq + " " + payload.getClass().getSimpleName() + detail);
        if (!detail.isEmpty()) {
            // the recoverer runs once this returns: a power loss after that must still find it started
            channel.force(false);
        }
        entries.put(uid, new Entry(seq, previous != null && previous.finished(), recoverer));
    }

    /** Records that every event of {@code uid} was acknowledged. */
    public synchronized void finish(String uid) throws IOException {
        Entry previous = entries.remove(uid);
        long lastSeq = previous == null ? -1 : previous.lastSeq();
        append("D " + encode(uid) + " " + lastSeq);
        entries.put(uid, new Entry(lastSeq, true, null));
    }

    /** What is known of {@code uid}. */
    synchronized Optional<Entry> entry(String uid) {
        return Optional.ofNullable(entries.get(uid));
    }

    /** Abnormals whose last event was never acknowledged. */
    synchronized Map<String, Entry> unfinished() {
        Map<String, Entry> unfinished = new LinkedHashMap<>();
        entries.forEach((uid, e) -> {
            if (!e.finished()) {
                unfinished.put(uid, e);
            }
        });
        return unfinished;
    }

    @Override
    public synchronized void close() throws IOException {
        channel.close();
    }

    private void append(String line) throws IOException {
        write(channel, line + "\n");
    }

    private static void write(FileChannel channel, String text) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (bytes.hasRemaining()) {
            channel.write(bytes);
        }
    }

    private static void apply(Map<String, Entry> entries, String line) {
        String[] f = line.split(" ");
        try {
            if (f[0].equals("D") && (f.length == 2 || f.length == 3)) {
                String uid = decode(f[1]);
                Entry previous = entries.remove(uid);
                long seq = Math.max(previous == null ? -1 : previous.lastSeq(), f.length == 3 ? Long.parseLong(f[2]) : -1);
                entries.put(uid, new Entry(seq, true, null));
            } else if (f[0].equals("S") && f.length >= 4) {
                String uid = decode(f[1]);
                Entry previous = entries.get(uid);
                String recoverer = previous == null ? null : previous.runningRecoverer();
                if (f[3].equals(ProcessorStarted.class.getSimpleName()) && f.length == 5) {
                    recoverer = decode(f[4]);
                } else if (f[3].equals(ProcessorFinished.class.getSimpleName())) {
                    recoverer = null;
                }
                long seq = Math.max(Long.parseLong(f[2]), previous == null ? -1 : previous.lastSeq());
                entries.put(uid, new Entry(seq, previous != null && previous.finished(), recoverer));
            }
        } catch (RuntimeException e) {
            // a line torn by a crash in the middle of a write: what it would have said was never acted on
        }
    }

    private static String line(String uid, Entry e) {
        if (e.finished()) {
            return "D " + encode(uid) + " " + e.lastSeq();
        }
        return "S " + encode(uid) + " " + e.lastSeq() + (e.runningRecoverer() == null
                ? " Compacted"
                : " " + ProcessorStarted.class.getSimpleName() + " " + encode(e.runningRecoverer()));
    }

    private static void trimFinished(Map<String, Entry> entries) {
        long finished = entries.values().stream().filter(Entry::finished).count();
        Iterator<Entry> it = entries.values().iterator();
        while (finished > MAX_FINISHED && it.hasNext()) {
            if (it.next().finished()) {
                it.remove();
                finished--;
            }
        }
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8);
    }

    private static String decode(String text) {
        return URLDecoder.decode(text, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return file.toString();
    }
}
