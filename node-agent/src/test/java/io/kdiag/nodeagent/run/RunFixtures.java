package io.kdiag.nodeagent.run;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

import io.kdiag.nodeagent.Fixtures;
import io.kdiag.nodeagent.policy.Policy;
import io.kdiag.nodeagent.processors.Artifacts;
import io.kdiag.nodeagent.processors.BuiltIns;
import io.kdiag.nodeagent.processors.Processors;
import io.kdiag.nodeagent.processors.Profilers;
import io.kdiag.nodeagent.processors.Registrations;
import io.kdiag.nodeagent.processors.RemoteProcessor;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.stageworkers.FileArtifactStore;
import io.kdiag.stageworkers.WorkerCatalog;
import io.kdiag.stageworkers.WorkerRunner;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.PodSource;
import io.kdiag.stageworkers.spi.StageWorker;
import io.micrometer.core.instrument.MeterRegistry;

/** Stage runners and an event sink for the tests of running abnormals. */
final class RunFixtures {
    private RunFixtures() {
    }

    /** A node without a cluster, its artifacts in a temporary folder. */
    static NodeServices node(HostPaths host, long agentPid) {
        try {
            return new NodeServices(host, agentPid, PodSource.NONE,
                    new FileArtifactStore(Files.createTempDirectory("kdiag-artifacts-"), Clock.systemUTC()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A stage runner of these workers under a policy granting everything (commands echo and sh), without a cluster. */
    static StageRunner stageRunner(NodeServices node, List<StageWorker> workers, WorkerRunner runner, MeterRegistry registry) {
        return stageRunner(node, workers, runner, Fixtures::grantingEverything, Registrations.NONE,
                URI.create("http://127.0.0.1:1/"), new OutputLimits(1024, 100_000), registry);
    }

    /**
     * A stage runner of these built-ins and registrations, with the profiler engines of the class path; its artifacts
     * are served at {@code http://agent.test:8090} and its calls to {@code ownServer} carry the token {@code token}.
     */
    static StageRunner stageRunner(NodeServices node, List<StageWorker> workers, WorkerRunner runner, Supplier<Policy> policy,
                                   Registrations registrations, URI ownServer, OutputLimits limits, MeterRegistry registry) {
        AgentMetrics metrics = new AgentMetrics(registry);
        Artifacts artifacts = new Artifacts(node.artifacts(), "http://agent.test:8090", Duration.ofHours(1));
        BuiltIns builtIns = new BuiltIns(Fixtures.BUILTIN, new WorkerCatalog(workers), runner, policy);
        return new StageRunner("node-a", node, new Processors(builtIns, registrations, new RemoteProcessor(ownServer, "token"), policy),
                new StageCommands(policy, limits, metrics), new StageProfilers(policy, Profilers.fromClassPath(), artifacts, metrics),
                new ContextFitter(artifacts, limits), metrics);
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

        synchronized List<String> described() {
            return events.stream().map(e -> Fixtures.describe(e.getPayload())).toList();
        }
    }
}
