package io.kdiag.stageworkers;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One allowed form of a command, matched on the whole argv. The executable ({@code argv[0]}) is always literal: a bare
 * name, looked up on the PATH, or an absolute path, which allows exactly that file. The arguments after it are either
 * <ul>
 * <li>a literal prefix ({@link #prefix}): the command's arguments start with these words, and anything may follow; for
 * tools no argument of which changes anything ({@code uptime}, {@code df});</li>
 * <li>one full-match pattern per argument ({@link #argv}): as many arguments as patterns, each matching its pattern
 * whole (Java regular expressions); for tools that read with some arguments and write with others ({@code ip},
 * {@code hostname}, {@code dmesg}, {@code journalctl}).</li>
 * </ul>
 */
public final class ArgvPattern {
    private final String executable;
    private final List<String> prefix;
    private final List<Pattern> arguments;

    private ArgvPattern(String executable, List<String> prefix, List<Pattern> arguments) {
        this.executable = executable;
        this.prefix = prefix;
        this.arguments = arguments;
    }

    /**
     * The executable and the literal words its arguments start with.
     *
     * @param words the executable, then the literal argument prefix (may be empty: any arguments)
     * @throws IllegalArgumentException if there is no executable or it is neither a bare name nor an absolute path
     */
    public static ArgvPattern prefix(List<String> words) {
        return new ArgvPattern(executable(words), List.copyOf(words.subList(1, words.size())), null);
    }

    /**
     * The executable and one full-match pattern per argument.
     *
     * @param words the executable (literal), then a pattern for each argument
     * @throws IllegalArgumentException if there is no executable, it is neither a bare name nor an absolute path, or a
     *         pattern does not compile
     */
    public static ArgvPattern argv(List<String> words) {
        String executable = executable(words);
        List<Pattern> arguments = new ArrayList<>();
        for (String pattern : words.subList(1, words.size())) {
            try {
                arguments.add(Pattern.compile(pattern));
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("'" + pattern + "' is not a regular expression: " + e.getDescription(), e);
            }
        }
        return new ArgvPattern(executable, null, List.copyOf(arguments));
    }

    private static String executable(List<String> words) {
        if (words.isEmpty() || words.get(0) == null || words.get(0).isBlank()) {
            throw new IllegalArgumentException("an allowed command names its executable first");
        }
        String executable = words.get(0);
        if (words.stream().anyMatch(w -> w == null)) {
            throw new IllegalArgumentException(executable + ": no word may be null");
        }
        // a relative path such as ./x or bin/x would depend on the working directory
        if (executable.contains("/") && !(Path.of(executable).isAbsolute() && Path.of(executable).normalize().toString().equals(executable))) {
            throw new IllegalArgumentException(executable + " must be a bare name or an absolute path");
        }
        return executable;
    }

    /** Whether {@code argv} (executable and arguments) has this form. */
    public boolean matches(List<String> argv) {
        if (argv.isEmpty() || !executable.equals(argv.get(0))) {
            return false;
        }
        List<String> given = argv.subList(1, argv.size());
        if (prefix != null) {
            return given.size() >= prefix.size() && given.subList(0, prefix.size()).equals(prefix);
        }
        if (given.size() != arguments.size()) {
            return false;
        }
        for (int i = 0; i < given.size(); i++) {
            if (given.get(i) == null || !arguments.get(i).matcher(given.get(i)).matches()) {
                return false;
            }
        }
        return true;
    }

    /** The executable, as given. */
    public String executable() {
        return executable;
    }

    /** As a policy file writes it: {@code prefix: [uptime]}, {@code argv: [ip, "addr|link"]}. */
    @Override
    public String toString() {
        List<String> words = new ArrayList<>();
        words.add(executable);
        if (prefix != null) {
            words.addAll(prefix);
            return "prefix: " + words;
        }
        arguments.forEach(p -> words.add(p.pattern()));
        return "argv: " + words;
    }
}
