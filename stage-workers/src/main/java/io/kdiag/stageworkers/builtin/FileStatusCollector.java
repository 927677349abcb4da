package io.kdiag.stageworkers.builtin;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;

/**
 * {@code file-status-collector}: the status of host paths ({@code filePathInformation}, a list) into
 * {@code fileStatusInformation}: for each path {@code {path, type, mode, uid, gid, inode, links, size, modTime,
 * diskUsage}}, {@code linkTarget} for a symbolic link (never followed: its target is a host path), and for a
 * directory {@code fileStatuses}, its entries with the same fields, largest disk usage first, at most
 * {@value #MAX_ENTRIES} (the rest counted in {@code omittedEntries}). A path that cannot be read gives an entry
 * with {@code path} and {@code error}; disk usage that cannot be counted gives {@code diskUsageError}.
 */
public final class FileStatusCollector implements StageWorker {
    private static final int CALL_TIMEOUT_SECONDS = 300;
    /** The context key of the input paths. */
    public static final String FILE_PATHS = "filePathInformation";
    /** The context key of the output. */
    public static final String FILE_STATUS = "fileStatusInformation";
    static final int MAX_ENTRIES = 500;
    private static final int TYPE_MASK = 0170000;

    private final DiskUsage diskUsage;

    /** The collector, as the service loader creates it. */
    public FileStatusCollector() {
        this(DiskUsage.system());
    }

    FileStatusCollector(DiskUsage diskUsage) {
        this.diskUsage = diskUsage;
    }

    @Override
    public String name() {
        return "file-status-collector";
    }

    @Override
    public Stage stage() {
        return Stage.InformationCollection;
    }

    /** {@value #CALL_TIMEOUT_SECONDS} s, the timeoutSeconds of KubeDiag v0.1.6's registration of this built-in. */
    @Override
    public Duration timeout() {
        return Duration.ofSeconds(CALL_TIMEOUT_SECONDS);
    }

    @Override
    public WorkResult run(WorkContext ctx) throws InterruptedException {
        List<String> paths = new ArrayList<>();
        try {
            for (Object path : Inputs.list(Inputs.required(ctx, FILE_PATHS), FILE_PATHS)) {
                if (!(path instanceof String p) || !p.startsWith("/")) {
                    return WorkResult.failed("InvalidInput", FILE_PATHS + " must list absolute host paths, not " + path);
                }
                paths.add(p);
            }
        } catch (Inputs.InputException e) {
            return WorkResult.failed(e.reason(), e.getMessage());
        }
        List<Map<String, Object>> statuses = new ArrayList<>();
        for (String path : paths) {
            statuses.add(status(ctx.host(), path));
        }
        return WorkResult.succeeded(Map.of(FILE_STATUS, statuses), Set.of());
    }

    private Map<String, Object> status(HostPaths host, String hostPath) throws InterruptedException {
        Path file;
        Map<String, Object> status;
        try {
            file = host.resolve(hostPath);
            status = attributes(hostPath, file);
        } catch (IOException | IllegalArgumentException e) {
            return error(hostPath, e);
        }
        if (!"directory".equals(status.get("type"))) {
            DiskUsage.Usage usage = diskUsage.total(file);
            status.put("diskUsage", usage.bytes());
            if (usage.error() != null) {
                status.put("diskUsageError", usage.error());
            }
            return status;
        }
        // one du for the directory and its entries
        DiskUsage.Entries usage = diskUsage.entries(file);
        status.put("diskUsage", usage.total());
        if (usage.error() != null) {
            status.put("diskUsageError", usage.error());
        }
        status.put("fileStatuses", entries(hostPath, file, usage, status));
        return status;
    }

    private static List<Map<String, Object>> entries(String hostPath, Path dir, DiskUsage.Entries usage, Map<String, Object> parent) {
        List<Map<String, Object>> entries = new ArrayList<>();
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            stream.forEach(children::add);
        } catch (IOException e) {
            parent.put("error", "cannot list " + hostPath + ": " + e);
            return entries;
        }
        for (Path child : children) {
            String childHostPath = hostPath.replaceFirst("/+$", "") + "/" + child.getFileName();
            Map<String, Object> entry;
            try {
                entry = attributes(childHostPath, child);
            } catch (IOException e) {
                entries.add(error(childHostPath, e));
                continue;
            }
            Long bytes = usage.usage().get(child.normalize());
            entry.put("diskUsage", bytes == null ? 0L : bytes);
            if (bytes == null && usage.error() != null) {
                entry.put("diskUsageError", "not counted: " + usage.error());
            }
            entries.add(entry);
        }
        entries.sort(Comparator.comparingLong((Map<String, Object> e) -> (Long) e.getOrDefault("diskUsage", 0L)).reversed()
                .thenComparing(e -> (String) e.get("path")));
        if (entries.size() > MAX_ENTRIES) {
            parent.put("omittedEntries", entries.size() - MAX_ENTRIES);
            return new ArrayList<>(entries.subList(0, MAX_ENTRIES));
        }
        return entries;
    }

    private static Map<String, Object> attributes(String hostPath, Path file) throws IOException {
        Map<String, Object> a = Files.readAttributes(file, "unix:*", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("path", hostPath);
        status.put("type", type(mode));
        status.put("mode", String.format("%04o", mode & 07777));
        status.put("uid", a.get("uid"));
        status.put("gid", a.get("gid"));
        status.put("inode", a.get("ino"));
        status.put("links", a.get("nlink"));
        status.put("size", a.get("size"));
        status.put("modTime", ((FileTime) a.get("lastModifiedTime")).toInstant().toString());
        if (Files.isSymbolicLink(file)) {
            status.put("linkTarget", Files.readSymbolicLink(file).toString());
        }
        return status;
    }

    private static String type(int mode) {
        return switch (mode & TYPE_MASK) {
            case 0140000 -> "socket";
            case 0120000 -> "symlink";
            case 0100000 -> "file";
            case 0060000 -> "blockDevice";
            case 0040000 -> "directory";
            case 0020000 -> "charDevice";
            case 0010000 -> "fifo";
            default -> "unknown";
        };
    }

    private static Map<String, Object> error(String hostPath, Exception e) {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("path", hostPath);
        status.put("error", e instanceof NoSuchFileException ? "no such file or directory" : e.toString());
        return status;
    }
}
