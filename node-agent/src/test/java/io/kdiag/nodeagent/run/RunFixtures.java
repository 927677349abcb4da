package io.kdiag.nodeagent.run;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

import io.kdiag.nodeagent.Fixtures;
import io.kdiag.nodeagent.policy.Policy;
import io.kdiag.nodeagent.processors.BuiltIns;
import io.kdiag.nodeagent.processors.Processors;
import io.kdiag.nodeagent.processors.Profilers;
import io.kdiag.nodeagent.processors.Registrations;
import io.kdiag.schemas.Evidence;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.stageworkers.RemoteProcessor;
import io.kdiag.stageworkers.WorkerCatalog;
import io.kdiag.stageworkers.WorkerRunner;
import io.kdiag.stageworkers.spi.EvidenceStore;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.PodSource;
import io.kdiag.stageworkers.spi.StageWorker;
import io.micrometer.core.instrument.MeterRegistry;

/** Stage runners and an event sink for the tests of running abnormals. */
final class RunFixtures {
    private RunFixtures() {
    }

    /** A node without a cluster. */
    static NodeServices node(HostPaths host, long agentPid) {
        return new NodeServices(host, agentPid, PodSource.NONE);
    }

    /** A stage runner of these workers under a policy granting everything (commands echo and sh), without a cluster. */
    static StageRunner stageRunner(NodeServices node, List<StageWorker> workers, WorkerRunner runner, MeterRegistry registry) {
        return stageRunner(node, workers, runner, Fixtures::grantingEverything, Registrations.NONE,
                URI.create("http://127.0.0.1:1/"), new OutputLimits(1024, 100_000), new MemoryEvidence(), budget(LIMITS), registry, running());
    }

    /** A switch that lets recoveries run: the recovery-control topic read, and empty. */
    static RecoverySwitch running() {
        RecoverySwitch recoveries = new RecoverySwitch();
        recoveries.readToEnd();
        return recoveries;
    }

    /** Evidence limits that no test reaches unless it means to. */
    static final EvidenceBudget.Limits LIMITS = new EvidenceBudget.Limits(1 << 20, 4 << 20, 16 << 20);

    /** A budget of these limits, counting the day in a temporary file. */
    static EvidenceBudget budget(EvidenceBudget.Limits limits) {
        try {
            return new EvidenceBudget(limits, Files.createTempDirectory("kdiag-evidence-").resolve("evidence-budget"), Clock.systemUTC());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A stage runner of these built-ins and registrations, with the profiler engines of the class path; its profiles
     * go to {@code evidence}, like large context values, and its calls to {@code ownServer} carry the token {@code token}.
     */
    static StageRunner stageRunner(NodeServices node, List<StageWorker> workers, WorkerRunner runner, Supplier<Policy> policy,
                                   Registrations registrations, URI ownServer, OutputLimits limits, EvidenceStore evidence,
                                   EvidenceBudget budget, MeterRegistry registry, RecoverySwitch recoveries) {
        return stageRunner(node, workers, runner, policy, registrations, ownServer, limits, evidence, budget, registry, recoveries,
                new Approvals("node-a", registrations, policy, Duration.ofHours(1), Clock.systemUTC()), parking());
    }

    /** As the one above, with this approval gate and parking. */
    static StageRunner stageRunner(NodeServices node, List<StageWorker> workers, WorkerRunner runner, Supplier<Policy> policy,
                                   Registrations registrations, URI ownServer, OutputLimits limits, EvidenceStore evidence,
                                   EvidenceBudget budget, MeterRegistry registry, RecoverySwitch recoveries, Approvals approvals,
                                   Parking parking) {
        return stageRunner(node, workers, runner, policy, registrations, ownServer, limits, evidence, budget, registry, recoveries,
                approvals, parking, RecoveryBudgetGate.NONE);
    }

    /** As the one above, with these recovery budgets. */
    static StageRunner stageRunner(NodeServices node, List<StageWorker> workers, WorkerRunner runner, Supplier<Policy> policy,
                                   Registrations registrations, URI ownServer, OutputLimits limits, EvidenceStore evidence,
                                   EvidenceBudget budget, MeterRegistry registry, RecoverySwitch recoveries, Approvals approvals,
                                   Parking parking, RecoveryBudgetGate budgets) {
        AgentMetrics metrics = new AgentMetrics(registry);
        KeptEvidence kept = new KeptEvidence(evidence, budget);
        BuiltIns builtIns = new BuiltIns(Fixtures.BUILTIN, new WorkerCatalog(workers), runner, registrations, policy);
        return new StageRunner("node-a", node, new Processors(builtIns, registrations, new RemoteProcessor(ownServer, "token", registry), policy),
                new StageCommands(policy, limits, metrics), new StageProfilers(policy, Profilers.fromClassPath(), kept, metrics),
                new ContextFitter(kept, limits), metrics, recoveries, approvals, parking, budgets);
    }

    /** Parking in a temporary folder. */
    static Parking parking() {
        try {
            return Parking.open(Files.createTempDirectory("kdiag-parking-"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Evidence kept in memory, one value per offset of partition 0, as the topic would number its chunks. */
    static final class MemoryEvidence implements EvidenceStore {
        final List<byte[]> values = new ArrayList<>();
        final List<String> types = new ArrayList<>();
        IOException failure;

        @Override
        public synchronized Evidence.Reference store(byte[] content, String contentType) throws IOException {
            if (failure != null) {
                throw failure;
            }
            values.add(content);
            types.add(contentType);
            try {
                String sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
                List<Long> offsets = new ArrayList<>();
                for (long chunk = 0; chunk == 0 || chunk * Evidence.CHUNK_BYTES < content.length; chunk++) {
                    offsets.add(offsets.size() + 100L * values.size());
                }
                return new Evidence.Reference("kdiag.evidence", 0, offsets, sha256, content.length, contentType);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** A sink that keeps what it is sent and acknowledges it at once, unless told to fail. */
    static final class ListSink implements EventSink {
        final List<DiagnosisEvent> events = new ArrayList<>();
        Function<DiagnosisEvent, Throwable> failure = e -> null;

        @Override
        public synchronized CompletableFuture<Void> send(DiagnosisEvent event) {
            events.add(event);
            Throwable error = failure.apply(event);
            return error == null ? CompletableFuture.completedFuture(null) : CompletableFuture.failedFuture(error);
        }

        @Override
        public void sendBatched() {
            // acknowledged at once: nothing is held back
        }

        synchronized List<String> described() {
            return events.stream().map(e -> Fixtures.describe(e.getPayload())).toList();
        }
    }
}
