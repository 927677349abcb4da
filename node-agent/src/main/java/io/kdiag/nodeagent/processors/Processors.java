package io.kdiag.nodeagent.processors;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.model.StageDefinition;
import io.kdiag.nodeagent.policy.Policy;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.RemoteProcessor;
import io.kdiag.stageworkers.spi.RecoveryPlan;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;

/**
 * Runs the processor a reference names: a built-in when the reference is in the built-in namespace and a worker of
 * that name is on the class path, else the InformationCollector, Diagnoser or Recoverer registered under that name,
 * called over HTTP once the policy grants it.
 */
public final class Processors {
    private final BuiltIns builtIns;
    private final Registrations registrations;
    private final RemoteProcessor remote;
    private final Supplier<Policy> policy;

    /** {@code policy}: the policy in force, asked before a registered processor is called. */
    public Processors(BuiltIns builtIns, Registrations registrations, RemoteProcessor remote, Supplier<Policy> policy) {
        this.builtIns = builtIns;
        this.registrations = registrations;
        this.remote = remote;
        this.policy = policy;
    }

    /** {@code namespace/name}, as messages and logs name a processor. */
    public static String name(NamespacedName processor) {
        return processor.getNamespace() + "/" + processor.getName();
    }

    /** A spec's reference to a processor as the events name it: a missing namespace or name is empty. */
    public static NamespacedName of(io.kdiag.api.v1.NamespacedName reference) {
        return new NamespacedName(reference.namespace == null ? "" : reference.namespace, reference.name == null ? "" : reference.name);
    }

    /** The processor {@link #name} wrote as {@code namespace/name}. */
    public static NamespacedName parse(String name) {
        int slash = name.indexOf('/');
        return new NamespacedName(name.substring(0, slash), name.substring(slash + 1));
    }

    /**
     * Runs {@code processor} in {@code stage} for an abnormal of {@code origin}; never throws for the processor's faults.
     *
     * @param snapshot the Abnormal a registered processor is sent, asked for only when one is called
     * @throws InterruptedException if the calling thread is interrupted
     */
    public WorkResult run(Stage stage, NamespacedName processor, WorkContext ctx, Origin origin, Supplier<Abnormal> snapshot)
            throws InterruptedException {
        Optional<StageWorker> worker = builtIns.find(processor.getNamespace(), processor.getName());
        if (worker.isPresent()) {
            return builtIns.run(worker.get(), stage, ctx, origin, false);
        }
        Optional<Registrations.Registered> registered = registrations.find(stage, processor.getNamespace(), processor.getName());
        if (registered.isEmpty()) {
            return notFound(stage, processor);
        }
        Policy current = policy.get();
        WorkResult refused = refusal(current, registered.get(), ctx, origin, processor);
        if (refused != null) {
            return refused;
        }
        URI url = remote.url(registered.get().spec());
        return remote.call(url, timeout(current, registered.get()), registered.get().insecureSkipTlsVerify(), snapshot.get(), origin);
    }

    /**
     * What the recoverer a reference names would do for an abnormal of {@code origin}, without doing it: a built-in's
     * {@link StageWorker#plan}; a registered one is never called (KubeDiag's protocol has no dry run, and a call could
     * act), its plan is the request it would have been sent. The grant is checked first either way. Never throws for
     * the processor's faults.
     *
     * @param snapshot the Abnormal a registered recoverer would be sent
     * @throws InterruptedException if the calling thread is interrupted
     */
    public RecoveryPlan plan(NamespacedName processor, WorkContext ctx, Origin origin, Supplier<Abnormal> snapshot)
            throws InterruptedException {
        Optional<StageWorker> worker = builtIns.find(processor.getNamespace(), processor.getName());
        if (worker.isPresent()) {
            return builtIns.plan(worker.get(), ctx, origin);
        }
        Optional<Registrations.Registered> registered = registrations.find(Stage.Recovery, processor.getNamespace(), processor.getName());
        Policy current = policy.get();
        WorkResult refused = registered.isEmpty() ? notFound(Stage.Recovery, processor)
                : refusal(current, registered.get(), ctx, origin, processor);
        if (refused != null) {
            return RecoveryPlan.notActing(refused.reason(), refused.message());
        }
        Abnormal abnormal = snapshot.get();
        byte[] body = ApiSerialization.json(abnormal).getBytes(StandardCharsets.UTF_8);
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("method", "POST");
        request.put("url", remote.url(registered.get().spec()).toString());
        request.put("timeoutSeconds", timeout(current, registered.get()).toSeconds());
        request.put("insecureSkipTlsVerify", registered.get().insecureSkipTlsVerify());
        Map<String, Object> sent = new LinkedHashMap<>();
        sent.put("bytes", body.length);
        sent.put("sha256", sha256(body));
        sent.put("contextKeys", abnormal.getStatus() == null || abnormal.getStatus().context == null ? List.of()
                : List.copyOf(abnormal.getStatus().context.keySet()));
        request.put("body", sent);
        return RecoveryPlan.acting(Map.of("request", request), "not called: KubeDiag's processor protocol has no dry run, so a "
                + "registered recoverer in shadow mode is never called; this is the request it would have been sent (the Abnormal "
                + "as the history folds it at this point)");
    }

    /** The processors the policy in force runs in shadow mode in {@code stage}. */
    public List<Policy.Shadow> shadows(Stage stage) {
        return policy.get().shadows(stage);
    }

    private WorkResult notFound(Stage stage, NamespacedName processor) {
        return WorkResult.failed("ProcessorNotFound", "processor " + name(processor) + " is neither a built-in of this agent"
                + " (namespace " + builtIns.namespace() + ") nor a registered " + StageDefinition.of(stage).processorType());
    }

    /** A failed result when a registered processor may not be called for this abnormal, else {@code null}. */
    private WorkResult refusal(Policy current, Registrations.Registered registered, WorkContext ctx, Origin origin, NamespacedName processor) {
        String refused = current.processor(ctx.namespace(), origin, processor.getNamespace(), processor.getName());
        if (refused != null) {
            return WorkResult.failed("Forbidden", refused);
        }
        try {
            remote.url(registered.spec());
        } catch (IllegalArgumentException e) {
            return WorkResult.failed("InvalidRegistration", "processor " + name(processor) + ": " + e.getMessage());
        }
        return null;
    }

    private static Duration timeout(Policy current, Registrations.Registered registered) {
        return Duration.ofSeconds(current.timeoutSeconds(registered.spec().timeoutSeconds, RemoteProcessor.DEFAULT_TIMEOUT_SECONDS));
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
