package io.kdiag.stageworkers.builtin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.spi.RecoveryPlan;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;

/**
 * {@code signal-recoverer}: sends each {@code signalRecovery} entry ({@code [{pid, signal}]}, spec context first,
 * then status context) with {@code kill -s <signal> <pid>}, since Java cannot send arbitrary signals. PID 1 and the
 * agent itself are refused ({@code Forbidden}) before anything is sent; the first error stops it. Output
 * {@code signalRecoveryResult} ({@code [{pid, signal, sent: true}]}). In shadow mode its {@link #plan} names the
 * pids and signals it would send.
 */
public final class SignalRecoverer implements StageWorker {
    private static final int CALL_TIMEOUT_SECONDS = 60;
    /** The context key of the input. */
    public static final String SIGNAL_RECOVERY = "signalRecovery";
    /** The context key of the output. */
    public static final String SIGNAL_RECOVERY_RESULT = "signalRecoveryResult";
    /** The key of a plan's targets. */
    public static final String SIGNALS = "signals";
    private static final long KILL_TIMEOUT_SECONDS = 10;

    @Override
    public String name() {
        return "signal-recoverer";
    }

    @Override
    public Stage stage() {
        return Stage.Recovery;
    }

    /** {@value #CALL_TIMEOUT_SECONDS} s, the timeoutSeconds of KubeDiag v0.1.6's registration of this built-in. */
    @Override
    public Duration timeout() {
        return Duration.ofSeconds(CALL_TIMEOUT_SECONDS);
    }

    @Override
    public WorkResult run(WorkContext ctx) throws IOException, InterruptedException {
        RecoveryPlan plan = plan(ctx);
        if (!plan.wouldAct()) {
            return WorkResult.failed(plan.reason(), plan.message());
        }
        List<Map<String, Object>> sent = new ArrayList<>();
        for (Object target : (List<?>) plan.plan().get(SIGNALS)) {
            Map<?, ?> entry = (Map<?, ?>) target;
            long pid = (Long) entry.get("pid");
            long signal = (Long) entry.get("signal");
            String error = kill(pid, signal);
            if (error != null) {
                return WorkResult.failed("SignalFailed", error);
            }
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("pid", pid);
            result.put("signal", signal);
            result.put("sent", true);
            sent.add(result);
        }
        return WorkResult.succeeded(Map.of(SIGNAL_RECOVERY_RESULT, sent), Set.of());
    }

    /**
     * The signals {@link #run} would send, checked as it checks them and in the order it sends them:
     * {@code {signals: [{pid, signal}]}}, nothing sent.
     */
    @Override
    public RecoveryPlan plan(WorkContext ctx) {
        List<Map<String, Object>> targets = new ArrayList<>();
        try {
            for (Object e : Inputs.list(Inputs.required(ctx, SIGNAL_RECOVERY), SIGNAL_RECOVERY)) {
                Map<?, ?> entry = Inputs.map(e, SIGNAL_RECOVERY + " entry");
                long pid = Inputs.integer(entry.get("pid"), SIGNAL_RECOVERY + ".pid");
                long signal = Inputs.integer(entry.get("signal"), SIGNAL_RECOVERY + ".signal");
                if (pid <= 1 || pid == ctx.agentPid()) {
                    return RecoveryPlan.notActing("Forbidden", "refusing to signal pid " + pid + ": never PID 1, the agent or a process group");
                }
                if (signal < 0 || signal > 64) {
                    return RecoveryPlan.notActing("InvalidInput", "signal " + signal + " is not a signal number");
                }
                Map<String, Object> target = new LinkedHashMap<>();
                target.put("pid", pid);
                target.put("signal", signal);
                targets.add(target);
            }
        } catch (Inputs.InputException e) {
            return RecoveryPlan.notActing(e.reason(), e.getMessage());
        }
        return RecoveryPlan.acting(Map.of(SIGNALS, targets), "would send " + targets.size() + " signal" + (targets.size() == 1 ? "" : "s"));
    }

    private static String kill(long pid, long signal) throws IOException, InterruptedException {
        List<String> command = List.of("kill", "-s", String.valueOf(signal), String.valueOf(pid));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!process.waitFor(KILL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return String.join(" ", command) + " did not finish within " + KILL_TIMEOUT_SECONDS + " s";
        }
        if (process.exitValue() != 0) {
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return String.join(" ", command) + ": exit code " + process.exitValue() + (output.isEmpty() ? "" : ": " + output);
        }
        return null;
    }
}
