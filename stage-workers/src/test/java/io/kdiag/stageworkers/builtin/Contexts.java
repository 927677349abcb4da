package io.kdiag.stageworkers.builtin;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.stageworkers.CommandResult;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.PodSource;
import io.kdiag.stageworkers.spi.TestNodes;
import io.kdiag.stageworkers.spi.WorkContext;

/** Work contexts and canned commands for the built-in tests. */
final class Contexts {
    static final long AGENT_PID = 4242;

    /** The node the contexts run on, as in the seed's Abnormal. */
    static final String NODE = "10.177.16.22";

    private Contexts() {
    }

    /** A context on the host tree {@code root}, without a cluster. */
    static WorkContext at(Path root, Map<String, Object> specContext, Map<String, Object> statusContext) {
        return with(root, PodSource.NONE, specContext, statusContext);
    }

    /** A context on the host tree {@code root} whose pods come from {@code pods}. */
    static WorkContext with(Path root, PodSource pods, Map<String, Object> specContext, Map<String, Object> statusContext) {
        AbnormalSpec spec = new AbnormalSpec();
        spec.context = specContext;
        return new WorkContext("uid-1", "default", "abnormal", NODE, spec, statusContext,
                TestNodes.with(HostPaths.of(root), AGENT_PID, pods));
    }

    /** A command runner that records each command and answers from {@code answer}. */
    static final class FakeRunner implements CommandRunner {
        final List<List<String>> commands = new ArrayList<>();
        private final java.util.function.Function<List<String>, CommandResult> answer;

        FakeRunner(java.util.function.Function<List<String>, CommandResult> answer) {
            this.answer = answer;
        }

        @Override
        public synchronized CommandResult run(List<String> command, int timeoutSeconds) {
            commands.add(command);
            return answer.apply(command);
        }
    }

    static CommandResult ok(List<String> command, String stdout) {
        return new CommandResult(command, stdout, "", null, CommandResult.Status.SUCCEEDED, 1);
    }

    static CommandResult failed(List<String> command, String stderr) {
        return new CommandResult(command, "", stderr, "exit code 1", CommandResult.Status.EXITED_NON_ZERO, 1);
    }

    static CommandResult timedOut(List<String> command, int seconds) {
        return new CommandResult(command, "", "", "command " + command + " timed out after " + seconds + " s",
                CommandResult.Status.TIMED_OUT, seconds * 1000L);
    }

    /** A mutable map, for building JSON objects in a readable order. */
    static Map<String, Object> object(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }
}
