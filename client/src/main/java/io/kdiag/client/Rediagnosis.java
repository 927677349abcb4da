package io.kdiag.client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kdiag.api.Annotations;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.ProcessorSpec;
import io.kdiag.model.FoldState;
import io.kdiag.model.StatusProjection;
import io.kdiag.schemas.Evidence;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Accepted;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.StageOutcome;
import io.kdiag.stageworkers.RemoteProcessor;
import io.kdiag.stageworkers.WorkerCatalog;
import io.kdiag.stageworkers.WorkerRunner;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.PodSource;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Runs one diagnoser again on recorded abnormals, from the recorded evidence alone: each gets the context as it stood
 * when information collection finished (the fold of its events up to that StageFinished), with the values kept on the
 * evidence topic read back, and the diagnoser's verdict and output are compared with the recorded ones.
 *
 * <p>Nothing of the machine it runs on goes in: a built-in diagnoser sees a host root that holds nothing (one that
 * reads the host reports {@code MissingInput}), no pods; a registered diagnoser is called over
 * KubeDiag's protocol with the recorded Abnormal. Only diagnosers: recoverers have side effects.
 *
 * <pre>{@code
 * try (Rediagnosis rediagnosis = Rediagnosis.builtIn(client, "process-match-diagnoser",
 *         Map.of("processMatch", Map.of("commandPattern", "^java ")))) {
 *     Rediagnosis.Outcome outcome = rediagnosis.run(EventLog.read(client), Instant.now().minus(Duration.ofDays(1)));
 *     outcome.differing().forEach(f -> System.out.println(f.status().getName() + ": " + f.valueChanges()));
 * }
 * }</pre>
 */
public final class Rediagnosis implements AutoCloseable {
    /** A worker's largest output here: room for values as large as the evidence it reads back. */
    private static final int MAX_WORKER_OUTPUT_BYTES = 64 * 1024 * 1024;
    /** The reason a diagnoser gives when an input it needs is absent. */
    static final String MISSING_INPUT = "MissingInput";

    /** Reads a value kept as evidence back ({@link KdiagClient#evidence}). */
    @FunctionalInterface
    interface EvidenceSource {
        byte[] read(Evidence.Reference reference) throws IOException;
    }

    /** A diagnoser run again: given the recorded abnormal, its spec and its context, its result. */
    @FunctionalInterface
    interface Diagnoser {
        WorkResult run(AbnormalStatus status, AbnormalSpec spec, Map<String, Object> context) throws InterruptedException;
    }

    private final String name;
    private final Diagnoser diagnoser;
    private final EvidenceSource evidence;
    private final Map<String, Object> contextOverrides;
    private final AutoCloseable resources;

    Rediagnosis(String name, Diagnoser diagnoser, EvidenceSource evidence, Map<String, Object> contextOverrides,
            AutoCloseable resources) {
        this.name = name;
        this.diagnoser = diagnoser;
        this.evidence = evidence;
        this.contextOverrides = Map.copyOf(contextOverrides);
        this.resources = resources;
    }

    /**
     * A built-in diagnoser of this jar, run in this process on a host root that holds nothing.
     *
     * @param contextOverrides {@code spec.context} entries to set before running, e.g. a changed pattern
     * @throws IllegalArgumentException when there is no built-in of that name or it is not a diagnoser
     */
    public static Rediagnosis builtIn(KdiagClient client, String name, Map<String, Object> contextOverrides) {
        StageWorker worker = WorkerCatalog.builtIns().find(name)
                .orElseThrow(() -> new IllegalArgumentException("no built-in diagnoser named " + name));
        return builtIn(worker, evidence(client), contextOverrides);
    }

    static Rediagnosis builtIn(StageWorker worker, EvidenceSource evidence, Map<String, Object> contextOverrides) {
        if (worker.stage() != Stage.Diagnosis) {
            throw new IllegalArgumentException(worker.name() + " is not a diagnoser but runs in stage " + worker.stage()
                    + "; only diagnosers are run again (they have no side effects)");
        }
        Path emptyHost;
        try {
            emptyHost = Files.createTempDirectory("kdiag-rediagnose-host-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create an empty host root: " + e.getMessage(), e);
        }
        WorkerRunner runner = new WorkerRunner(MAX_WORKER_OUTPUT_BYTES);
        // pid 0: the recording agent's own process is not known here, and no process has pid 0
        NodeServices node = new NodeServices(HostPaths.of(emptyHost), 0, PodSource.NONE);
        Diagnoser run = (status, spec, context) -> runner.run(worker, new WorkContext(status.getUid(), status.getNamespace(),
                status.getName(), status.getNodeName(), spec, context, node), worker.timeout());
        return new Rediagnosis(worker.name(), run, evidence, contextOverrides, () -> {
            runner.close();
            Files.deleteIfExists(emptyHost);
        });
    }

    /**
     * A registered Diagnoser resource, found in the client's cluster and called over KubeDiag's HTTP protocol with each
     * recorded Abnormal, as an agent would call it.
     *
     * @throws IllegalArgumentException when there is no such Diagnoser, or it has no address of its own (it names a
     *         processor of the node's agent, which a re-diagnosis does not reach)
     */
    public static Rediagnosis registered(KdiagClient client, KubernetesClient cluster, String namespace, String name,
            Map<String, Object> contextOverrides) {
        io.kdiag.api.v1.Diagnoser resource = cluster.resources(io.kdiag.api.v1.Diagnoser.class).inNamespace(namespace).withName(name).get();
        if (resource == null || resource.getSpec() == null) {
            throw new IllegalArgumentException("no Diagnoser " + namespace + "/" + name + " in the cluster");
        }
        Map<String, String> annotations = resource.getMetadata().getAnnotations();
        boolean insecure = annotations != null && "true".equalsIgnoreCase(String.valueOf(annotations.get(Annotations.INSECURE_SKIP_TLS_VERIFY)).strip());
        return registered(namespace + "/" + name, resource.getSpec(), insecure, evidence(client), contextOverrides);
    }

    static Rediagnosis registered(String name, ProcessorSpec registration, boolean insecureSkipTlsVerify, EvidenceSource evidence,
            Map<String, Object> contextOverrides) {
        boolean ownAddress = registration.externalIP != null && registration.externalPort != null
                || registration.ip != null && !registration.ip.isBlank() && registration.port != null;
        if (!ownAddress) {
            throw new IllegalArgumentException("Diagnoser " + name + " has no address of its own: it names a processor of each "
                    + "node's agent, which a re-diagnosis does not call");
        }
        // no server of its own: every address is another's; no metrics endpoint either, so its counts stay here
        RemoteProcessor remote = new RemoteProcessor(URI.create("http://0.0.0.0:0/"), "", new SimpleMeterRegistry());
        URI url = remote.url(registration);
        Duration timeout = Duration.ofSeconds(registration.timeoutSeconds == null || registration.timeoutSeconds <= 0
                ? RemoteProcessor.DEFAULT_TIMEOUT_SECONDS : registration.timeoutSeconds);
        Diagnoser call = (status, spec, context) -> {
            Abnormal abnormal = StatusProjection.abnormal(status);
            abnormal.setSpec(spec);
            abnormal.getStatus().context = context;
            return remote.call(url, timeout, insecureSkipTlsVerify, abnormal, status.getOrigin());
        };
        return new Rediagnosis(name, call, evidence, contextOverrides, () -> { });
    }

    private static EvidenceSource evidence(KdiagClient client) {
        return client::evidence;
    }

    /** The diagnoser's name: a built-in's, or {@code namespace/name} of a registration. */
    public String name() {
        return name;
    }

    /**
     * What a diagnoser concluded.
     *
     * @param ran whether it ran at all
     * @param identified whether it identified the fault
     * @param keys the context keys it wrote
     * @param reason why it did not identify, for a person; not compared
     */
    public record Verdict(boolean ran, boolean identified, SortedSet<String> keys, String reason) {
        /** It did not run. */
        public static final Verdict NOT_RUN = new Verdict(false, false, new TreeSet<>(), null);

        static Verdict of(boolean identified, Iterable<String> keys, String reason) {
            SortedSet<String> sorted = new TreeSet<>();
            keys.forEach(sorted::add);
            return new Verdict(true, identified, sorted, reason);
        }

        /** Same outcome: both ran or not, same identification, same keys written. */
        public boolean sameAs(Verdict other) {
            return ran == other.ran && identified == other.identified && keys.equals(other.keys);
        }

        /** {@code not run}, {@code identified: k1, k2}, {@code not identified (Reason)}. */
        public String describe() {
            if (!ran) {
                return "not run";
            }
            if (identified) {
                return keys.isEmpty() ? "identified" : "identified: " + String.join(", ", keys);
            }
            return "not identified" + (reason == null ? "" : " (" + reason + ")");
        }
    }

    /**
     * One abnormal whose verdict or output changed.
     *
     * @param status the abnormal as it stood after information collection
     * @param recorded what the diagnoser concluded then ({@link Verdict#NOT_RUN} if it did not run)
     * @param rediagnosed what it concludes now
     * @param valueChanges how its context output changed, one line per difference ({@link ValueDiff})
     */
    public record Finding(AbnormalStatus status, Verdict recorded, Verdict rediagnosed, List<String> valueChanges) {
    }

    /**
     * The outcome of a whole run.
     *
     * @param since abnormals accepted at or after this were considered
     * @param considered abnormals accepted since then
     * @param rediagnosed those with a successful information collection, on which the diagnoser ran
     * @param lackingInput of those, the ones on which it reported a missing input: the recorded evidence does not hold
     *        what it needs (counted, not compared)
     * @param unreadableEvidence abnormals whose recorded evidence could not be read back (past retention, say): not run
     * @param differing those whose verdict or output changed
     */
    public record Outcome(Instant since, int considered, int rediagnosed, int lackingInput, int unreadableEvidence,
            List<Finding> differing) {
    }

    /** Runs the diagnoser on every abnormal of the log accepted since {@code since}. */
    public Outcome run(EventLog log, Instant since) throws InterruptedException {
        int considered = 0;
        int rediagnosed = 0;
        int lackingInput = 0;
        int unreadable = 0;
        List<Finding> differing = new ArrayList<>();
        for (String uid : log.folds().keySet()) {
            List<DiagnosisEvent> events = log.events(uid);
            if (events.isEmpty() || !(events.get(0).getPayload() instanceof Accepted) || events.get(0).getTime().isBefore(since)) {
                continue;
            }
            considered++;
            Optional<Finding> finding;
            try {
                finding = rediagnose(events);
            } catch (IOException e) {
                unreadable++;
                continue;
            }
            if (finding.isEmpty()) {
                continue;
            }
            rediagnosed++;
            Finding f = finding.get();
            if (!f.rediagnosed().identified() && MISSING_INPUT.equals(f.rediagnosed().reason())) {
                lackingInput++;
            } else if (!f.recorded().sameAs(f.rediagnosed()) || !f.valueChanges().isEmpty()) {
                differing.add(f);
            }
        }
        return new Outcome(since, considered, rediagnosed, lackingInput, unreadable, differing);
    }

    /**
     * Re-runs the diagnoser on one abnormal's events (in seq order); empty when collection never succeeded.
     *
     * @throws IOException if a value of its recorded evidence cannot be read back
     */
    Optional<Finding> rediagnose(List<DiagnosisEvent> events) throws InterruptedException, IOException {
        FoldState fold = FoldState.empty();
        boolean collected = false;
        for (DiagnosisEvent event : events) {
            fold.offer(event, FoldState.MAX_PENDING);
            if (event.getPayload() instanceof StageFinished f && f.getStage() == Stage.InformationCollection) {
                collected = f.getOutcome() == StageOutcome.Succeeded;
                break;
            }
        }
        if (!collected || fold.current() == null) {
            return Optional.empty();
        }
        AbnormalStatus status = fold.current();
        AbnormalSpec spec = ApiSerialization.spec(status.getSpec());
        if (!contextOverrides.isEmpty()) {
            Map<String, Object> context = new LinkedHashMap<>(spec.context == null ? Map.of() : spec.context);
            context.putAll(contextOverrides);
            spec.context = context;
        }
        Map<String, Object> context = withEvidence(ApiSerialization.jsonObject(status.getContext()));
        WorkResult result = diagnoser.run(status, spec, context);
        Map<String, Object> written = tree(result.succeeded() ? result.contextUpdates() : Map.of());
        Verdict now = Verdict.of(result.succeeded(), written.keySet(), result.reason());
        Optional<ProcessorFinished> recordedRun = recorded(events, name);
        Verdict then = recordedRun.map(p -> Verdict.of(p.getSucceeded(), ApiSerialization.jsonObject(p.getContextUpdates()).keySet(),
                p.getReason())).orElse(Verdict.NOT_RUN);
        Map<String, Object> recordedOutput = recordedRun.isPresent() && recordedRun.get().getSucceeded()
                ? withEvidence(ApiSerialization.jsonObject(recordedRun.get().getContextUpdates())) : Map.of();
        return Optional.of(new Finding(status, then, now, ValueDiff.of(tree(recordedOutput), written)));
    }

    /** The context with each value kept as evidence read back in its place. */
    private Map<String, Object> withEvidence(Map<String, Object> context) throws IOException {
        Map<String, Object> whole = new LinkedHashMap<>(context);
        for (Map.Entry<String, Object> entry : context.entrySet()) {
            Optional<Evidence.Reference> reference;
            try {
                reference = Evidence.Reference.fromContextValue(entry.getValue());
            } catch (IllegalArgumentException e) {
                throw new IOException("context key " + entry.getKey() + ": " + e.getMessage(), e);
            }
            if (reference.isPresent()) {
                String json = new String(evidence.read(reference.get()), StandardCharsets.UTF_8);
                whole.put(entry.getKey(), ApiSerialization.jsonObject("{\"v\":" + json + "}").get("v"));
            }
        }
        return whole;
    }

    /** A value as the JSON tree a record holds, so the recorded and the new output compare alike. */
    private static Map<String, Object> tree(Map<String, Object> value) {
        return ApiSerialization.jsonObject(ApiSerialization.json(value));
    }

    /** The recorded run of the diagnoser named {@code name} (a built-in's name, or {@code namespace/name}), if it ran. */
    static Optional<ProcessorFinished> recorded(List<DiagnosisEvent> events, String name) {
        for (DiagnosisEvent event : events) {
            if (event.getPayload() instanceof ProcessorFinished p && p.getStage() == Stage.Diagnosis
                    && (name.equals(p.getProcessor().getName()) || name.equals(p.getProcessor().getNamespace() + "/" + p.getProcessor().getName()))) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** Stops the worker threads and removes the empty host root. */
    @Override
    public void close() {
        try {
            resources.close();
        } catch (Exception e) {
            throw new IllegalStateException("cannot clean up after the re-diagnosis: " + e.getMessage(), e);
        }
    }
}
