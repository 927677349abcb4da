package io.kdiag.nodeagent.processors;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;

import io.kdiag.api.v1.Abnormal;
import io.kdiag.model.StageDefinition;
import io.kdiag.nodeagent.policy.Policy;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.RemoteProcessor;
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
            return WorkResult.failed("ProcessorNotFound", "processor " + name(processor) + " is neither a built-in of this agent"
                    + " (namespace " + builtIns.namespace() + ") nor a registered " + StageDefinition.of(stage).processorType());
        }
        Policy current = policy.get();
        String refused = current.processor(ctx.namespace(), origin, processor.getNamespace(), processor.getName());
        if (refused != null) {
            return WorkResult.failed("Forbidden", refused);
        }
        URI url;
        try {
            url = remote.url(registered.get().spec());
        } catch (IllegalArgumentException e) {
            return WorkResult.failed("InvalidRegistration", "processor " + name(processor) + ": " + e.getMessage());
        }
        Duration timeout = Duration.ofSeconds(current.timeoutSeconds(registered.get().spec().timeoutSeconds,
                RemoteProcessor.DEFAULT_TIMEOUT_SECONDS));
        return remote.call(url, timeout, registered.get().insecureSkipTlsVerify(), snapshot.get(), origin);
    }
}
