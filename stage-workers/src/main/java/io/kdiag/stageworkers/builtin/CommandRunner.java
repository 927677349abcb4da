package io.kdiag.stageworkers.builtin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import io.kdiag.stageworkers.ArgvPattern;
import io.kdiag.stageworkers.CommandExecutor;
import io.kdiag.stageworkers.CommandResult;

/**
 * Runs the fixed host commands of the built-ins ({@code systemctl}, {@code du}, …). An interface so tests can feed
 * canned output; the real one is a {@link CommandExecutor} allowing exactly the executables the built-in needs, so a
 * timeout kills the whole process group.
 */
@FunctionalInterface
interface CommandRunner {
    /** Runs {@code command}, killing it after {@code timeoutSeconds}. */
    CommandResult run(List<String> command, int timeoutSeconds) throws InterruptedException;

    /**
     * A runner for these executables with any arguments (the built-in builds every argv itself), capping each output
     * stream at {@code maxOutputBytes}.
     */
    static CommandRunner allowing(Set<String> executables, int maxOutputBytes) {
        CommandExecutor executor = new CommandExecutor(executables.stream().map(e -> ArgvPattern.prefix(List.of(e))).toList(),
                maxOutputBytes);
        return executor::run;
    }

    /** Whether {@code name} is an executable on the agent's PATH. */
    static boolean onPath(String name) {
        String path = System.getenv("PATH");
        for (String dir : (path == null ? "/usr/bin:/bin" : path).split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                return true;
            }
        }
        return false;
    }

    /** Why a command did not succeed, for a message; {@code null} when it did. */
    static String failure(CommandResult result) {
        if (result.status() == CommandResult.Status.SUCCEEDED) {
            return null;
        }
        String stderr = result.stderr() == null ? "" : result.stderr().strip();
        return String.join(" ", result.command()) + ": " + result.error() + (stderr.isEmpty() ? "" : ": " + stderr);
    }
}
