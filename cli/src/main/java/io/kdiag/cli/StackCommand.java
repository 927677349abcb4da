package io.kdiag.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code kdiag stack [FIELD]}: where the running {@code kdiag up} listens and which node its agent serves. */
@Command(name = "stack", mixinStandardHelpOptions = true,
        description = {"Show the running local stack (kdiag up): its Kafka bootstrap servers, the node its agent serves, "
                + "and the topic prefix, one FIELD=VALUE per line; with FIELD, only that value (for scripts: "
                + "NODE=$(./kdiag stack node)).", "Exits 1 when no stack runs under this home."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the stack runs", "1:no stack runs under this home", "2:unknown FIELD"})
final class StackCommand implements Callable<Integer> {
    @ParentCommand
    KdiagCommand kdiag;

    @Spec
    CommandSpec spec;

    @Parameters(arity = "0..1", paramLabel = "FIELD", description = "bootstrap-servers, node or topic-prefix.")
    String field;

    @Override
    public Integer call() {
        StackFile stack = StackFile.read(kdiag.home());
        PrintWriter out = spec.commandLine().getOut();
        if (stack == null) {
            spec.commandLine().getErr().println("error: no local stack runs under " + kdiag.home() + " (start one with './kdiag up')");
            return 1;
        }
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("bootstrap-servers", stack.bootstrapServers());
        fields.put("node", stack.nodeName());
        fields.put("topic-prefix", stack.topicPrefix());
        if (field == null) {
            fields.forEach((name, value) -> out.println(name + "=" + value));
        } else if (fields.containsKey(field)) {
            out.println(fields.get(field));
        } else {
            throw new CommandLine.ParameterException(spec.commandLine(), "unknown field " + field + "; one of " + fields.keySet());
        }
        return 0;
    }
}
