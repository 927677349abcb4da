package io.kdiag.stageworkers.builtin;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import io.kdiag.stageworkers.CommandResult;

/**
 * Disk usage as {@code du} counts it: allocated bytes, hard links once, symbolic links not followed. Runs
 * {@code nice -n 19 ionice -c 3 du -B 1 …} (the niceness cAdvisor uses, plus the idle I/O class) with whichever of the
 * three tools the agent has; without {@code du} it walks the tree in Java and rounds each file up to the file
 * store's block size, which over-counts sparse files.
 */
final class DiskUsage {
    /** Seconds one {@code du} may run, as in the original. */
    static final int TIMEOUT_SECONDS = 60;
    // du -a of a large directory prints one line per entry
    private static final int MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
    private static final long DEFAULT_BLOCK_SIZE = 4096;

    /** Bytes used, or why they could not be counted ({@code bytes} is then 0). */
    record Usage(long bytes, String error) {
    }

    private final CommandRunner runner;
    private final List<String> prefix;
    private final boolean du;

    DiskUsage(CommandRunner runner, boolean nice, boolean ionice, boolean du) {
        this.runner = runner;
        List<String> p = new ArrayList<>();
        if (nice) {
            p.addAll(List.of("nice", "-n", "19"));
        }
        if (ionice) {
            p.addAll(List.of("ionice", "-c", "3"));
        }
        this.prefix = List.copyOf(p);
        this.du = du;
    }

    /** Disk usage with the tools this agent has. */
    static DiskUsage system() {
        return new DiskUsage(CommandRunner.allowing(Set.of("nice", "ionice", "du"), MAX_OUTPUT_BYTES),
                CommandRunner.onPath("nice"), CommandRunner.onPath("ionice"), CommandRunner.onPath("du"));
    }

    /** The usage of {@code path} and everything below it. */
    Usage total(Path path) throws InterruptedException {
        if (!du) {
            return walk(path);
        }
        CommandResult result = runner.run(command("-s", path), TIMEOUT_SECONDS);
        String failure = CommandRunner.failure(result);
        if (failure != null) {
            return new Usage(0, failure);
        }
        String[] fields = result.stdout().strip().split("\\s+", 2);
        try {
            return new Usage(Long.parseLong(fields[0]), null);
        } catch (NumberFormatException e) {
            return new Usage(0, "unexpected du output: " + result.stdout().strip());
        }
    }

    /**
     * The usage of {@code dir} and of each entry directly inside it, from one {@code du -a -d 1}. An entry du could
     * not read is missing from the map; the error says why.
     */
    Entries entries(Path dir) throws InterruptedException {
        if (!du) {
            Map<Path, Long> usage = new LinkedHashMap<>();
            Usage total = walk(dir);
            try (Stream<Path> children = Files.list(dir)) {
                for (Path child : (Iterable<Path>) children::iterator) {
                    Usage u = walk(child);
                    if (u.error() == null) {
                        usage.put(child.normalize(), u.bytes());
                    }
                }
            } catch (IOException e) {
                return new Entries(usage, total.bytes(), "cannot list " + dir + ": " + e);
            }
            return new Entries(usage, total.bytes(), total.error());
        }
        CommandResult result = runner.run(command("-a", "-d", "1", "-0", dir), TIMEOUT_SECONDS);
        Map<Path, Long> usage = new LinkedHashMap<>();
        // -0 ends each record with NUL, so names with newlines survive; a failing du still prints what it could read
        for (String record : result.stdout().split("\0")) {
            int tab = record.indexOf('\t');
            if (tab > 0) {
                try {
                    usage.put(Path.of(record.substring(tab + 1)).normalize(), Long.parseLong(record.substring(0, tab).strip()));
                } catch (NumberFormatException e) {
                    // the truncation note or a partial record
                }
            }
        }
        Long total = usage.remove(dir.normalize());
        return new Entries(usage, total == null ? 0 : total, CommandRunner.failure(result));
    }

    /** Usage per entry path, the directory's total, and the error of a partial answer. */
    record Entries(Map<Path, Long> usage, long total, String error) {
    }

    private List<String> command(Object... args) {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of("du", "-B", "1"));
        for (Object arg : args) {
            command.add(arg.toString());
        }
        return command;
    }

    private static Usage walk(Path path) {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return new Usage(0, "no such file or directory: " + path);
        }
        long blockSize = blockSize(path);
        long[] total = {0};
        Set<Object> seenInodes = new HashSet<>();
        try {
            Files.walkFileTree(path, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    total[0] += allocated(attrs.size(), blockSize);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    // a symbolic link's target usually lives in its inode (no blocks); a hard-linked file counts once, as du counts it
                    if (!attrs.isSymbolicLink() && (links(file) < 2 || seenInodes.add(attrs.fileKey()))) {
                        total[0] += allocated(attrs.size(), blockSize);
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            return new Usage(total[0], "cannot walk " + path + ": " + e);
        }
        return new Usage(total[0], null);
    }

    private static int links(Path file) throws IOException {
        return (Integer) Files.getAttribute(file, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
    }

    private static long allocated(long size, long blockSize) {
        return (size + blockSize - 1) / blockSize * blockSize;
    }

    private static long blockSize(Path path) {
        try {
            return Files.getFileStore(path).getBlockSize();
        } catch (IOException | UnsupportedOperationException e) {
            return DEFAULT_BLOCK_SIZE;
        }
    }
}
