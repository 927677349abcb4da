package io.kdiag.stageworkers.builtin;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code terminating-pod-diagnoser}: finds pods stuck in Terminating and the shims that hold them. Inputs
 * {@code podInformation} (pod-collector) and {@code processInformation} (process-collector); pods of other nodes are
 * ignored. A pod is stuck when it has a {@code deletionTimestamp}, its phase is not {@code Unknown}, and the deletion is
 * older than its grace period plus 30 seconds. The grace period is {@code metadata.deletionGracePeriodSeconds}, else
 * {@code spec.terminationGracePeriodSeconds}, else Kubernetes' default of 30 seconds (KubeDiag added its two 30 s
 * defaults as 30 ns). Its shims are {@code [docker-]containerd-shim -workdir <dir>} processes whose
 * last path element is one of its container ids (Docker's shim, one per container), and
 * {@code containerd-shim-*-v2 -id <id>} processes whose id is one of its container ids or its sandbox id (known
 * from the CRI annotations in containerd's task state). Output {@code terminatingPodDiagnosis} (the stuck pods) and
 * {@code signalRecovery = [{pid, signal: 9}]} for signal-recoverer; both inputs are removed. No stuck pod: success
 * with no change, as the original answered 200 with the body unchanged. Stuck pods without any shim:
 * {@code ShimNotFound}.
 */
public final class TerminatingPodDiagnoser implements StageWorker {
    private static final int CALL_TIMEOUT_SECONDS = 60;
    /** The context key of the stuck pods. */
    public static final String TERMINATING_POD_DIAGNOSIS = "terminatingPodDiagnosis";
    /** The grace the kubelet has beyond the pod's own, as the original's {@code PodKillGracePeriodSeconds}. */
    static final Duration KILL_GRACE = Duration.ofSeconds(30);
    /** Kubernetes' {@code DefaultTerminationGracePeriodSeconds}. */
    static final long DEFAULT_GRACE_SECONDS = 30;
    private static final long SIGKILL = 9;
    private static final Logger LOG = LoggerFactory.getLogger(TerminatingPodDiagnoser.class);

    private final Clock clock;

    /** The diagnoser, as the service loader creates it. */
    public TerminatingPodDiagnoser() {
        this(Clock.systemUTC());
    }

    TerminatingPodDiagnoser(Clock clock) {
        this.clock = clock;
    }

    @Override
    public String name() {
        return "terminating-pod-diagnoser";
    }

    @Override
    public Stage stage() {
        return Stage.Diagnosis;
    }

    /** {@value #CALL_TIMEOUT_SECONDS} s, the timeoutSeconds of KubeDiag v0.1.6's registration of this built-in. */
    @Override
    public Duration timeout() {
        return Duration.ofSeconds(CALL_TIMEOUT_SECONDS);
    }

    /** A shim process and the id its command line names. */
    private record Shim(long pid, String id) {
    }

    @Override
    public WorkResult run(WorkContext ctx) {
        List<Map<?, ?>> stuck = new ArrayList<>();
        List<Shim> shims = new ArrayList<>();
        try {
            Instant now = clock.instant();
            for (Object p : Inputs.list(Inputs.required(ctx, PodCollector.POD_INFORMATION), PodCollector.POD_INFORMATION)) {
                Map<?, ?> pod = Inputs.map(p, PodCollector.POD_INFORMATION + " entry");
                if (Inputs.onNode(pod, ctx.nodeName()) && isStuck(pod, now)) {
                    stuck.add(pod);
                }
            }
            for (Object p : Inputs.list(Inputs.required(ctx, ProcessCollector.PROCESS_INFORMATION), ProcessCollector.PROCESS_INFORMATION)) {
                Map<?, ?> process = Inputs.map(p, ProcessCollector.PROCESS_INFORMATION + " entry");
                if (process.get("command") instanceof List<?> command) {
                    String id = shimId(command);
                    if (id != null) {
                        shims.add(new Shim(Inputs.integer(process.get("pid"), "processInformation pid"), id));
                    }
                }
            }
        } catch (Inputs.InputException e) {
            return WorkResult.failed(e.reason(), e.getMessage());
        }
        if (stuck.isEmpty()) {
            return WorkResult.succeeded(Map.of(), Set.of());
        }
        List<ContainerdTasks.Task> tasks = tasks(ctx);
        Set<Long> pids = new LinkedHashSet<>();
        for (Map<?, ?> pod : stuck) {
            Set<String> ids = runtimeIds(pod, tasks);
            for (Shim shim : shims) {
                if (ids.contains(shim.id()) && shim.pid() > 1 && shim.pid() != ctx.agentPid()) {
                    pids.add(shim.pid());
                }
            }
        }
        if (pids.isEmpty()) {
            return WorkResult.failed("ShimNotFound", "no containerd shim found for the stuck terminating pods "
                    + stuck.stream().map(TerminatingPodDiagnoser::describe).toList());
        }
        List<Map<String, Object>> signals = new ArrayList<>();
        for (long pid : pids) {
            Map<String, Object> signal = new LinkedHashMap<>();
            signal.put("pid", pid);
            signal.put("signal", SIGKILL);
            signals.add(signal);
        }
        Map<String, Object> updates = new LinkedHashMap<>();
        updates.put(TERMINATING_POD_DIAGNOSIS, stuck);
        updates.put(SignalRecoverer.SIGNAL_RECOVERY, signals);
        return WorkResult.succeeded(updates, Set.of(PodCollector.POD_INFORMATION, ProcessCollector.PROCESS_INFORMATION));
    }

    private boolean isStuck(Map<?, ?> pod, Instant now) throws Inputs.InputException {
        Map<?, ?> metadata = pod.get("metadata") instanceof Map<?, ?> m ? m : Map.of();
        if (!(metadata.get("deletionTimestamp") instanceof String deletion)) {
            return false;
        }
        Map<?, ?> status = pod.get("status") instanceof Map<?, ?> s ? s : Map.of();
        if ("Unknown".equals(status.get("phase"))) {
            return false;
        }
        Instant deletedAt;
        try {
            deletedAt = OffsetDateTime.parse(deletion).toInstant();
        } catch (DateTimeParseException e) {
            throw new Inputs.InputException("InvalidInput", "pod " + describe(pod) + " has an invalid deletionTimestamp " + deletion);
        }
        Map<?, ?> spec = pod.get("spec") instanceof Map<?, ?> m ? m : Map.of();
        long graceSeconds;
        if (metadata.get("deletionGracePeriodSeconds") != null) {
            graceSeconds = Inputs.integer(metadata.get("deletionGracePeriodSeconds"), "deletionGracePeriodSeconds");
        } else if (spec.get("terminationGracePeriodSeconds") != null) {
            graceSeconds = Inputs.integer(spec.get("terminationGracePeriodSeconds"), "terminationGracePeriodSeconds");
        } else {
            graceSeconds = DEFAULT_GRACE_SECONDS;
        }
        return now.isAfter(deletedAt.plusSeconds(graceSeconds).plus(KILL_GRACE));
    }

    /**
     * The container id a shim's command line names: Docker's v1 {@code [docker-]containerd-shim} has {@code -workdir
     * .../<container id>}, the v2 shims ({@code containerd-shim-runc-v2}, …) have {@code -id <id>}.
     */
    static String shimId(List<?> command) {
        if (command.isEmpty()) {
            return null;
        }
        String program = String.valueOf(command.get(0));
        program = program.substring(program.lastIndexOf('/') + 1);
        // Docker up to 18.06 ships the v1 shim as docker-containerd-shim
        boolean v1 = program.equals("containerd-shim") || program.equals("docker-containerd-shim");
        if (!v1 && !program.startsWith("containerd-shim-")) {
            return null;
        }
        String flag = v1 ? "workdir" : "id";
        for (int i = 1; i < command.size(); i++) {
            String arg = String.valueOf(command.get(i));
            // Go's flag package takes -flag value, --flag value, -flag=value and --flag=value
            String name = arg.replaceFirst("^--?", "");
            String value = null;
            if (arg.startsWith("-") && name.equals(flag) && i + 1 < command.size()) {
                value = String.valueOf(command.get(i + 1));
            } else if (arg.startsWith("-") && name.startsWith(flag + "=")) {
                value = name.substring(flag.length() + 1);
            }
            if (value != null && !value.isEmpty()) {
                String trimmed = value.replaceFirst("/+$", "");
                return flag.equals("workdir") ? trimmed.substring(trimmed.lastIndexOf('/') + 1) : trimmed;
            }
        }
        return null;
    }

    /** The pod's container ids (any runtime prefix) and the sandbox ids containerd's task state ties to it. */
    private static Set<String> runtimeIds(Map<?, ?> pod, List<ContainerdTasks.Task> tasks) {
        Set<String> containerIds = new HashSet<>();
        Map<?, ?> status = pod.get("status") instanceof Map<?, ?> s ? s : Map.of();
        for (String field : List.of("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses")) {
            if (status.get(field) instanceof List<?> statuses) {
                for (Object c : statuses) {
                    if (c instanceof Map<?, ?> container && container.get("containerID") instanceof String id && !id.isEmpty()) {
                        containerIds.add(id.substring(id.indexOf("://") < 0 ? 0 : id.indexOf("://") + 3));
                    }
                }
            }
        }
        Map<?, ?> metadata = pod.get("metadata") instanceof Map<?, ?> m ? m : Map.of();
        Object uid = metadata.get("uid");
        Set<String> ids = new HashSet<>(containerIds);
        for (ContainerdTasks.Task task : tasks) {
            boolean ofPod = uid != null && uid.equals(task.annotation(ContainerdTasks.SANDBOX_UID)) || containerIds.contains(task.id());
            if (ofPod) {
                ids.add(task.id());
                if (task.annotation(ContainerdTasks.SANDBOX_ID) != null) {
                    ids.add(task.annotation(ContainerdTasks.SANDBOX_ID));
                }
            }
        }
        return ids;
    }

    private static List<ContainerdTasks.Task> tasks(WorkContext ctx) {
        try {
            return ContainerdTasks.read(ctx.host());
        } catch (IOException e) {
            // a Docker node has no task state; container ids alone still find its shims
            LOG.warn("cannot read containerd task state error={}", e.toString());
            return List.of();
        }
    }

    private static String describe(Map<?, ?> pod) {
        Map<?, ?> metadata = pod.get("metadata") instanceof Map<?, ?> m ? m : Map.of();
        return metadata.get("namespace") + "/" + metadata.get("name");
    }
}
