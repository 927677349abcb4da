package io.kdiag.nodeagent.http;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.CustomResource;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalStatus;
import io.kdiag.api.v1.Diagnoser;
import io.kdiag.api.v1.InformationCollector;
import io.kdiag.api.v1.ProcessorSpec;
import io.kdiag.api.v1.Recoverer;
import io.kdiag.common.health.Health;
import io.kdiag.common.http.HttpResponses;
import io.kdiag.model.StageDefinition;
import io.kdiag.nodeagent.processors.BuiltIns;
import io.kdiag.nodeagent.processors.Registrations;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.RemoteProcessor;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's HTTP port (8090): {@code /healthz}, {@code /readyz}, the processor listings, the built-ins over the
 * original protocol ({@code POST /informationcollector/processcollector}, …). It serves no profiles: they are
 * evidence, which the status writer serves.
 *
 * <p>A built-in called over HTTP is subject to the same policy as in a stage. A caller other than this agent is
 * checked as origin {@code Unknown}; the agent's own calls (a registration without an external address) carry a
 * per-process token and the origin of their abnormal, whose grant the agent already checked.
 */
public final class AgentHttpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AgentHttpServer.class);

    private final HttpServer server;
    private final ExecutorService executor;
    private final BuiltIns builtIns;
    private final Registrations registrations;
    private final NodeServices node;
    private final String nodeName;
    private final Health health;
    private final String token;

    private AgentHttpServer(HttpServer server, BuiltIns builtIns, Registrations registrations, NodeServices node, String nodeName,
                            Health health, String token) {
        this.server = server;
        this.builtIns = builtIns;
        this.registrations = registrations;
        this.node = node;
        this.nodeName = nodeName;
        this.health = health;
        this.token = token;
        AtomicInteger threads = new AtomicInteger();
        this.executor = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "kdiag-agent-http-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
    }

    /**
     * Listens on {@code host:port} (0 picks a free port).
     *
     * @param health what {@code /healthz} and {@code /readyz} answer
     * @param token what the agent's own calls carry in {@link RemoteProcessor#TOKEN_HEADER}
     */
    public static AgentHttpServer start(String host, int port, BuiltIns builtIns, Registrations registrations, NodeServices node,
                                        String nodeName, Health health, String token) throws IOException {
        AgentHttpServer agentServer = new AgentHttpServer(HttpServer.create(new InetSocketAddress(host, port), 0), builtIns, registrations,
                node, nodeName, health, token);
        agentServer.server.start();
        return agentServer;
    }

    /** The port it listens on. */
    public int port() {
        return server.getAddress().getPort();
    }

    /** The URL path of a built-in: its kind's path and its name without dashes ({@code /informationcollector/processcollector}). */
    static String path(StageWorker worker) {
        return "/" + StageDefinition.of(worker.stage()).path() + "/" + worker.name().replace("-", "").toLowerCase(Locale.ROOT);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String method = exchange.getRequestMethod();
            if (Health.isProbe(path)) {
                health.answer(exchange, path);
            } else {
                String[] parts = path.replaceFirst("^/", "").split("/", -1);
                Stage stage = stageOf(parts[0]);
                if (stage == null || parts.length > 2) {
                    HttpResponses.send(exchange, 404, "text/plain", "not found: " + path);
                } else if (parts.length == 1 || parts[1].isEmpty()) {
                    if (!method.equals("GET")) {
                        HttpResponses.send(exchange, 405, "text/plain", "method " + method + " not allowed; use GET");
                    } else {
                        HttpResponses.send(exchange, 200, "application/json", ApiSerialization.json(listing(stage)));
                    }
                } else {
                    builtIn(exchange, method, stage, parts[1]);
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("http request failed path={}", exchange.getRequestURI().getPath(), e);
        }
    }

    private static Stage stageOf(String kindPath) {
        for (StageDefinition definition : StageDefinition.values()) {
            if (definition.path().equals(kindPath)) {
                return definition.stage();
            }
        }
        return null;
    }

    private List<HasMetadata> listing(Stage stage) {
        List<HasMetadata> items = new ArrayList<>();
        for (StageWorker worker : builtIns.of(stage)) {
            CustomResource<ProcessorSpec, ?> resource = switch (StageDefinition.of(stage)) {
                case INFORMATION_COLLECTION -> new InformationCollector();
                case DIAGNOSIS -> new Diagnoser();
                case RECOVERY -> new Recoverer();
            };
            resource.setMetadata(new ObjectMetaBuilder().withNamespace(builtIns.namespace()).withName(worker.name()).build());
            ProcessorSpec spec = new ProcessorSpec();
            spec.path = path(worker);
            spec.scheme = "http";
            resource.setSpec(spec);
            items.add(resource);
        }
        items.addAll(registrations.list(stage));
        return items;
    }

    private void builtIn(HttpExchange exchange, String method, Stage stage, String name) throws IOException {
        Optional<StageWorker> worker = builtIns.of(stage).stream().filter(w -> path(w).equals("/" + StageDefinition.of(stage).path() + "/" + name)).findFirst();
        if (worker.isEmpty()) {
            HttpResponses.send(exchange, 404, "text/plain", "no built-in " + StageDefinition.of(stage).path() + " " + name);
            return;
        }
        if (!method.equals("POST")) {
            HttpResponses.send(exchange, 405, "text/plain", "method " + method + " not allowed; POST an Abnormal");
            return;
        }
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readNBytes(RemoteProcessor.MAX_RESPONSE_BYTES + 1);
        }
        if (body.length > RemoteProcessor.MAX_RESPONSE_BYTES) {
            HttpResponses.send(exchange, 413, "text/plain", "the body is larger than " + RemoteProcessor.MAX_RESPONSE_BYTES + " bytes");
            return;
        }
        String text = new String(body, StandardCharsets.UTF_8);
        Map<String, Object> json;
        try {
            json = ApiSerialization.jsonObject(text);
        } catch (RuntimeException e) {
            HttpResponses.send(exchange, 400, "text/plain", "unreadable body: " + e.getMessage());
            return;
        }
        Abnormal abnormal;
        try {
            abnormal = json.get("kind") == null || "Abnormal".equals(json.get("kind")) ? ApiSerialization.abnormal(text) : null;
        } catch (RuntimeException e) {
            abnormal = null;
        }
        if (abnormal == null || abnormal.getSpec() == null || abnormal.getMetadata() == null) {
            HttpResponses.send(exchange, 406, "text/plain", "the body is not an Abnormal");
            return;
        }
        boolean fromAgent = token.equals(exchange.getRequestHeaders().getFirst(RemoteProcessor.TOKEN_HEADER));
        Origin origin = fromAgent ? origin(exchange.getRequestHeaders().getFirst(RemoteProcessor.ORIGIN_HEADER)) : Origin.Unknown;
        AbnormalStatus status = abnormal.getStatus() == null ? new AbnormalStatus() : abnormal.getStatus();
        WorkContext ctx = new WorkContext(String.valueOf(abnormal.getMetadata().getUid()), abnormal.getMetadata().getNamespace(),
                abnormal.getMetadata().getName(), nodeName, abnormal.getSpec(), status.context, node);
        WorkResult result;
        try {
            result = builtIns.run(worker.get(), stage, ctx, origin, fromAgent);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            HttpResponses.send(exchange, 500, "text/plain", "Interrupted: the agent is stopping");
            return;
        }
        if (!result.succeeded()) {
            HttpResponses.send(exchange, 500, "text/plain", result.reason() + ": " + result.message());
            return;
        }
        Map<String, Object> context = status.context == null ? new LinkedHashMap<>() : new LinkedHashMap<>(status.context);
        context.putAll(result.contextUpdates());
        result.removedKeys().forEach(context::remove);
        status.context = context;
        abnormal.setStatus(status);
        HttpResponses.send(exchange, 200, "application/json", ApiSerialization.json(abnormal));
    }

    private static Origin origin(String name) {
        try {
            return name == null ? Origin.Unknown : Origin.valueOf(name);
        } catch (IllegalArgumentException e) {
            return Origin.Unknown;
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
