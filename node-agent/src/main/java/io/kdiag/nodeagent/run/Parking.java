package io.kdiag.nodeagent.run;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import io.kdiag.schemas.AvroSerde;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Stage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Abnormals parked before a stage goes on, until an answer arrives or a deadline passes: a recovery waiting for a person's
 * approval, say. A parked abnormal holds nothing of the consumer: its record's offset is committed like any other, and
 * the agent takes the next abnormal. What it needs to go on (its request, its status so far, its context in full, the
 * next seq) is in a file of its own under {@code <state dir>/parked}, forced to the disk before {@link #park} returns, so
 * a restart finds it parked again rather than losing it with the committed offset.
 *
 * <p>Changed by the consumer thread only (parking, answering, expiring between polls); {@link #size()} may be read by any.
 */
public final class Parking {
    private static final Logger LOG = LoggerFactory.getLogger(Parking.class);
    private static final int VERSION = 1;
    private static final String DIR = "parked";
    private static final AvroSerde<AbnormalRequest> REQUESTS = AvroSerde.of(AbnormalRequest.class);
    private static final AvroSerde<AbnormalStatus> STATUSES = AvroSerde.of(AbnormalStatus.class);

    /**
     * One parked abnormal.
     *
     * @param gate what it waits for ({@link Gate#name()}): only that gate's answers concern it
     * @param waitSeq the seq of the event that asked (e.g. {@code ApprovalRequested}): an answer must name it
     * @param subject what the gate decides on, for its answers (e.g. the recoverer, {@code namespace/name})
     * @param deadline when, without an answer, the gate's {@link Gate#expired} answer ends the wait
     * @param resumeAt the stage whose work goes on (from its start: commands, profilers, processors) after a yes
     * @param passed the gates already passed in that stage, not asked again when it goes on
     * @param status the fold of the events sent so far
     * @param context the context in full, as JSON (values kept as evidence included)
     * @param evidenceBytes bytes of the context kept as evidence so far
     * @param nextSeq the seq the next event takes
     */
    public record Parked(String uid, String gate, long waitSeq, String subject, Instant deadline, Stage resumeAt, List<String> passed,
                         AbnormalRequest request, AbnormalStatus status, String context, long evidenceBytes, long nextSeq) {
        public Parked {
            passed = List.copyOf(passed);
        }
    }

    private final Path dir;
    private final Map<String, Parked> parked;

    private Parking(Path dir, Map<String, Parked> parked) {
        this.dir = dir;
        this.parked = parked;
    }

    /** Reads the abnormals parked under {@code stateDir}; a file that cannot be read is set aside (its abnormal is ended at start). */
    public static Parking open(Path stateDir) throws IOException {
        Path dir = stateDir.resolve(DIR);
        Files.createDirectories(dir);
        Map<String, Parked> parked = new ConcurrentHashMap<>();
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(f -> !f.getFileName().toString().contains(".")).sorted().toList();
        }
        for (Path file : files) {
            try {
                Parked p = decode(Files.readAllBytes(file));
                parked.put(p.uid(), p);
            } catch (IOException | RuntimeException e) {
                LOG.error("parked abnormal unreadable file={} reason={}; it is set aside as .unreadable", file, e.toString());
                Files.move(file, file.resolveSibling(file.getFileName() + ".unreadable"), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return new Parking(dir, parked);
    }

    /** Parks an abnormal (or replaces its earlier wait): on the disk when this returns. */
    public void park(Parked abnormal) throws IOException {
        Path file = file(abnormal.uid());
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel out = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer bytes = ByteBuffer.wrap(encode(abnormal));
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
            out.force(true);
        }
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        forceDir();
        parked.put(abnormal.uid(), abnormal);
    }

    /** Ends the wait of {@code uid}: it goes on, or it ended; gone from the disk when this returns. */
    public void release(String uid) throws IOException {
        if (parked.remove(uid) != null) {
            Files.deleteIfExists(file(uid));
            forceDir();
        }
    }

    /** The abnormal parked as {@code uid}, if it is. */
    public Optional<Parked> get(String uid) {
        return Optional.ofNullable(parked.get(uid));
    }

    /** Every parked abnormal, soonest deadline first. */
    public List<Parked> all() {
        return parked.values().stream().sorted(Comparator.comparing(Parked::deadline)).toList();
    }

    /** The parked abnormals whose deadline is {@code now} or earlier, soonest first. */
    public List<Parked> due(Instant now) {
        List<Parked> due = new ArrayList<>();
        for (Parked p : parked.values()) {
            if (!p.deadline().isAfter(now)) {
                due.add(p);
            }
        }
        due.sort(Comparator.comparing(Parked::deadline));
        return due;
    }

    /** How many abnormals wait. */
    public int size() {
        return parked.size();
    }

    private Path file(String uid) {
        // uids are at most 253 characters (RequestHandler); encoded, they stay a file name and never contain a dot
        return dir.resolve(URLEncoder.encode(uid, StandardCharsets.UTF_8).replace(".", "%2E"));
    }

    private void forceDir() throws IOException {
        try (FileChannel folder = FileChannel.open(dir, StandardOpenOption.READ)) {
            folder.force(true);
        }
    }

    static byte[] encode(Parked p) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(VERSION);
            writeString(out, p.uid());
            writeString(out, p.gate());
            out.writeLong(p.waitSeq());
            writeString(out, p.subject());
            out.writeLong(p.deadline().toEpochMilli());
            writeString(out, p.resumeAt().name());
            out.writeInt(p.passed().size());
            for (String gate : p.passed()) {
                writeString(out, gate);
            }
            writeBytes(out, REQUESTS.encode(p.request()));
            writeBytes(out, STATUSES.encode(p.status()));
            writeString(out, p.context());
            out.writeLong(p.evidenceBytes());
            out.writeLong(p.nextSeq());
        } catch (IOException e) {
            throw new IllegalStateException(e); // in memory: cannot happen
        }
        return bytes.toByteArray();
    }

    static Parked decode(byte[] data) throws IOException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            int version = in.readInt();
            if (version != VERSION) {
                throw new IOException("unknown version " + version);
            }
            String uid = readString(in);
            String gate = readString(in);
            long waitSeq = in.readLong();
            String subject = readString(in);
            Instant deadline = Instant.ofEpochMilli(in.readLong());
            Stage resumeAt = Stage.valueOf(readString(in));
            int n = in.readInt();
            List<String> passed = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                passed.add(readString(in));
            }
            AbnormalRequest request = REQUESTS.decode(readBytes(in));
            AbnormalStatus status = STATUSES.decode(readBytes(in));
            String context = readString(in);
            return new Parked(uid, gate, waitSeq, subject, deadline, resumeAt, passed, request, status, context, in.readLong(), in.readLong());
        }
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        writeBytes(out, s.getBytes(StandardCharsets.UTF_8));
    }

    private static void writeBytes(DataOutputStream out, byte[] bytes) throws IOException {
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static String readString(DataInputStream in) throws IOException {
        return new String(readBytes(in), StandardCharsets.UTF_8);
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > in.available()) {
            throw new IOException("truncated");
        }
        return in.readNBytes(length);
    }

}
