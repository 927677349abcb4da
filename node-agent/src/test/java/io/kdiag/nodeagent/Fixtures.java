package io.kdiag.nodeagent;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.NamespacedName;
import io.kdiag.schemas.avro.AbnormalFailed;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.CommandFinished;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.ProcessorStarted;
import io.kdiag.schemas.avro.ProfilerFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.StageStarted;
import io.kdiag.stageworkers.FileArtifactStore;
import io.kdiag.stageworkers.WorkerCatalog;
import io.kdiag.stageworkers.WorkerRunner;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.PodSource;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;
import io.micrometer.core.instrument.MeterRegistry;

/** Builders and fakes shared by the agent's tests. */
final class Fixtures {
    static final String BUILTIN = "kube-diagnoser";

    private Fixtures() {
    }

    /** A node without a cluster, its artifacts in a temporary folder. */
    static NodeServices node(HostPaths host, long agentPid) {
        try {
            return new NodeServices(host, agentPid, PodSource.NONE,
                    new FileArtifactStore(java.nio.file.Files.createTempDirectory("kdiag-artifacts-"), java.time.Clock.systemUTC()));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A stage runner of these workers under the default policy (commands echo and sh), without a cluster. */
    static StageRunner stageRunner(NodeServices node, List<StageWorker> workers, WorkerRunner runner, MeterRegistry registry) {
        return stageRunner(node, workers, runner, () -> Policy.defaults(List.of("echo", "sh")), Registrations.NONE,
                URI.create("http://127.0.0.1:1/"), new Profilers(List.of()), new OutputLimits(1024, 100_000), registry);
    }

    /**
     * A stage runner of these built-ins and registrations; its artifacts are served at {@code http://agent.test:8090}
     * and its calls to {@code ownServer} carry the token {@code token}.
     */
    static StageRunner stageRunner(NodeServices node, List<StageWorker> workers, WorkerRunner runner, Supplier<Policy> policy,
                                   Registrations registrations, URI ownServer, Profilers profilers, OutputLimits limits,
                                   MeterRegistry registry) {
        AgentMetrics metrics = new AgentMetrics(registry);
        Artifacts artifacts = new Artifacts(node.artifacts(), "http://agent.test:8090", Duration.ofHours(1));
        BuiltIns builtIns = new BuiltIns(BUILTIN, new WorkerCatalog(workers), runner, policy);
        return new StageRunner("node-a", node, new Processors(builtIns, registrations, new RemoteProcessor(ownServer, "token"), policy),
                new StageCommands(policy, limits, metrics), new StageProfilers(policy, profilers, artifacts, metrics),
                new ContextFitter(artifacts, limits), metrics);
    }

    static NamespacedName ref(String name) {
        return new NamespacedName(BUILTIN, name);
    }

    static AbnormalRequest request(String uid, String node, AbnormalSpec spec) {
        return request(uid, node, ApiSerialization.json(spec));
    }

    static AbnormalRequest request(String uid, String node, String specJson) {
        return AbnormalRequest.newBuilder()
                .setUid(uid).setNamespace("default").setName("abnormal-" + uid).setNodeName(node)
                .setOrigin(Origin.CustomResource).setRequestedAt(Instant.now()).setSpec(specJson).setLabels(Map.of())
                .build();
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
            return events.stream().map(e -> describe(e.getPayload())).toList();
        }
    }

    /** A worker whose behaviour the test gives, recording each call in {@code calls}. */
    static StageWorker worker(String name, Stage stage, List<String> calls, Function<WorkContext, WorkResult> body) {
        return new StageWorker() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Stage stage() {
                return stage;
            }

            @Override
            public WorkResult run(WorkContext ctx) {
                synchronized (calls) {
                    calls.add(name);
                }
                return body.apply(ctx);
            }
        };
    }

    /** A compact description of an event payload, for sequence assertions. */
    static String describe(Object payload) {
        if (payload instanceof StageStarted s) {
            return "StageStarted " + s.getStage();
        } else if (payload instanceof ProcessorStarted p) {
            return "ProcessorStarted " + p.getProcessor().getName();
        } else if (payload instanceof ProcessorFinished p) {
            return "ProcessorFinished " + p.getProcessor().getName() + " " + (p.getSucceeded() ? "ok" : p.getReason());
        } else if (payload instanceof StageFinished s) {
            return "StageFinished " + s.getStage() + " " + s.getOutcome()
                    + (s.getProcessor() == null ? "" : " " + s.getProcessor().getName())
                    + (s.getReason() == null ? "" : " " + s.getReason());
        } else if (payload instanceof CommandFinished c) {
            return "CommandFinished " + c.getStage() + " " + c.getCommand().get(0);
        } else if (payload instanceof ProfilerFinished p) {
            return "ProfilerFinished " + p.getStage() + " " + p.getName();
        } else if (payload instanceof AbnormalFailed f) {
            return "AbnormalFailed " + f.getReason();
        }
        return payload.getClass().getSimpleName();
    }
}
