package io.kdiag.profilers;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stack traces with their weights (samples, nanoseconds, bytes), each stack root first. The same stack added twice
 * is summed, so the result is the "collapsed stacks" form every flame graph is drawn from.
 */
final class StackCounts {
    private final Map<List<String>, Long> counts = new LinkedHashMap<>();

    /** Adds {@code value} to the stack {@code framesRootFirst}; empty stacks and non-positive values are ignored. */
    void add(List<String> framesRootFirst, long value) {
        if (framesRootFirst.isEmpty() || value <= 0) {
            return;
        }
        counts.merge(List.copyOf(framesRootFirst), value, Long::sum);
    }

    /** The stacks and their summed weights, in insertion order. */
    Map<List<String>, Long> stacks() {
        return counts;
    }

    /** The sum of all weights. */
    long total() {
        return counts.values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * Parses collapsed stacks, one {@code frame;frame;frame count} a line (py-spy's {@code raw} format, Brendan
     * Gregg's {@code stackcollapse} output). The count follows the last space, since frames may contain spaces.
     *
     * @throws IllegalArgumentException naming the first line that is not in that form
     */
    static StackCounts parseCollapsed(String text) {
        StackCounts stacks = new StackCounts();
        String[] lines = text.split("\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            long count;
            try {
                count = space < 1 ? -1 : Long.parseLong(line.substring(space + 1));
            } catch (NumberFormatException e) {
                count = -1;
            }
            if (count < 0) {
                throw new IllegalArgumentException("line " + (i + 1) + " is not 'frame;frame;... count': " + abbreviate(line));
            }
            stacks.add(List.of(line.substring(0, space).split(";")), count);
        }
        return stacks;
    }

    private static String abbreviate(String line) {
        return line.length() <= 120 ? line : line.substring(0, 117) + "...";
    }
}
