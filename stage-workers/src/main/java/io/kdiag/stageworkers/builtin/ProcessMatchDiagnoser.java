package io.kdiag.stageworkers.builtin;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;

/**
 * {@code process-match-diagnoser}: identifies the fault when a process's command line matches a pattern. Input
 * {@code processMatch = {commandPattern, signal (default 15)}} and {@code processInformation} (from
 * process-collector); the pattern, RE2 syntax (linear time in the text: a pattern from an abnormal cannot stall the
 * agent), is searched (not anchored) in the command joined by spaces. PID 1 and the agent
 * never match. Output {@code processMatchDiagnosis} (the matching processes) and {@code signalRecovery}
 * ({@code [{pid, signal}]}, the input of signal-recoverer); {@code processInformation} is removed.
 */
public final class ProcessMatchDiagnoser implements StageWorker {
    private static final int CALL_TIMEOUT_SECONDS = 60;
    /** The context key of the input pattern. */
    public static final String PROCESS_MATCH = "processMatch";
    /** The context key of the matching processes. */
    public static final String PROCESS_MATCH_DIAGNOSIS = "processMatchDiagnosis";
    private static final int DEFAULT_SIGNAL = 15;

    @Override
    public String name() {
        return "process-match-diagnoser";
    }

    @Override
    public Stage stage() {
        return Stage.Diagnosis;
    }

    /** {@value #CALL_TIMEOUT_SECONDS} s, as KubeDiag v0.1.6's registrations of the diagnosers it had (it had no such built-in). */
    @Override
    public Duration timeout() {
        return Duration.ofSeconds(CALL_TIMEOUT_SECONDS);
    }

    @Override
    public WorkResult run(WorkContext ctx) {
        try {
            Map<?, ?> match = Inputs.map(Inputs.required(ctx, PROCESS_MATCH), PROCESS_MATCH);
            Object patternText = match.get("commandPattern");
            if (!(patternText instanceof String text) || text.isEmpty()) {
                return WorkResult.failed("MissingInput", "missing input " + PROCESS_MATCH + ".commandPattern");
            }
            Pattern pattern = Pattern.compile(text);
            long signal = match.get("signal") == null ? DEFAULT_SIGNAL : Inputs.integer(match.get("signal"), PROCESS_MATCH + ".signal");
            List<?> processes = Inputs.list(Inputs.required(ctx, ProcessCollector.PROCESS_INFORMATION), ProcessCollector.PROCESS_INFORMATION);

            List<Object> matching = new ArrayList<>();
            List<Map<String, Object>> signals = new ArrayList<>();
            for (Object p : processes) {
                Map<?, ?> process = Inputs.map(p, ProcessCollector.PROCESS_INFORMATION + " entry");
                long pid = Inputs.integer(process.get("pid"), "pid");
                if (pid <= 1 || pid == ctx.agentPid() || !(process.get("command") instanceof List<?> command)) {
                    continue;
                }
                String line = command.stream().map(String::valueOf).collect(Collectors.joining(" "));
                if (pattern.matcher(line).find()) {
                    matching.add(process);
                    Map<String, Object> entry = new LinkedHashMap<>();
                    entry.put("pid", pid);
                    entry.put("signal", signal);
                    signals.add(entry);
                }
            }
            if (matching.isEmpty()) {
                return WorkResult.failed("NoMatchingProcess", "no process matches " + PROCESS_MATCH + ".commandPattern " + text);
            }
            Map<String, Object> updates = new LinkedHashMap<>();
            updates.put(PROCESS_MATCH_DIAGNOSIS, matching);
            updates.put(SignalRecoverer.SIGNAL_RECOVERY, signals);
            return WorkResult.succeeded(updates, Set.of(ProcessCollector.PROCESS_INFORMATION));
        } catch (Inputs.InputException e) {
            return WorkResult.failed(e.reason(), e.getMessage());
        } catch (PatternSyntaxException e) {
            return WorkResult.failed("InvalidInput", PROCESS_MATCH + ".commandPattern is not a valid RE2 regular expression: " + e.getMessage());
        }
    }
}
