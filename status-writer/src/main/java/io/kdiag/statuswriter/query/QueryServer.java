package io.kdiag.statuswriter.query;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.stream.Collectors;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.kdiag.api.ApiSerialization;
import io.kdiag.common.health.Health;
import io.kdiag.common.http.HttpResponses;
import io.kdiag.model.ApprovalDecisions;
import io.kdiag.model.StatusProjection;
import io.kdiag.schemas.Evidence;
import io.kdiag.schemas.avro.AbnormalStatus;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The query API on {@code kdiag.http-port} (default 8091), JSON but for evidence (served as its own type). GET:
 * <ul>
 * <li>{@code /api/v1/abnormals[?namespace=NS]} → {@code {"items":[Abnormal...]}}</li>
 * <li>{@code /api/v1/namespaces/NS/abnormals/NAME} → the Abnormal of the latest run of that name</li>
 * <li>{@code /api/v1/namespaces/NS/abnormals/NAME/history} → {@code {"uid":..., "events":[summary...]}}</li>
 * <li>{@code /api/v1/evidence/SHA256?partition=P&offsets=O1,O2,...&bytes=N&type=T} → a value kept as evidence (a
 * context value, a profile's page or raw file) with the media type its writer gave it, read from the evidence topic at
 * the place its reference names (so any replica serves any of it)</li>
 * <li>{@code /healthz}, {@code /readyz}: the writer's {@link Health}</li>
 * </ul>
 * and the only writes, POST with a Kubernetes bearer token ({@link ApprovalRelay}), one at a time:
 * <ul>
 * <li>{@code /api/v1/namespaces/NS/abnormals/NAME/approve} and {@code .../deny}, body empty or
 * {@code {"reason":"..."}} (at most {@value #MAX_DECISION_BODY_BYTES} bytes) → 202 and what was written</li>
 * </ul>
 * Errors are {@code {"reason":"CamelCase","message":"..."}} with 400, 401, 403, 404, 405, 409, 413, 429, 501 or 503.
 */
public final class QueryServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(QueryServer.class);
    private static final String API = "/api/v1/";
    private static final String EVIDENCE = Evidence.SERVED_AT;
    /** What a page kept as evidence may do: its own inline script and style, links to its raw file; nothing else. */
    static final String PAGE_POLICY = "sandbox allow-scripts allow-downloads; default-src 'none'; script-src 'unsafe-inline'; "
            + "style-src 'unsafe-inline'; img-src data:";

    private final HttpServer server;
    private final ExecutorService executor;
    private final StatusQueries queries;
    private final Health health;
    private final String evidenceTopic;
    private final EvidenceReader evidence;
    private final ApprovalRelay approvals;
    /** One decision at a time: a caller cannot hold both threads (or the API server) with approvals, GETs keep one. */
    private final Semaphore deciding = new Semaphore(1);
    /** Largest body of an approve or deny call. */
    static final int MAX_DECISION_BODY_BYTES = 4096;
    private static final List<String> DECISIONS = List.of("approve", "deny");

    /** Reads a value kept as evidence, chunk by chunk ({@link Evidence#read}). */
    @FunctionalInterface
    public interface EvidenceReader {
        /** @throws IOException if the value cannot be read whole and as its reference says */
        void read(Evidence.Reference reference, Evidence.ChunkSink sink) throws IOException;
    }

    private QueryServer(HttpServer server, ExecutorService executor, StatusQueries queries, Health health, String evidenceTopic,
            EvidenceReader evidence, ApprovalRelay approvals) {
        this.server = server;
        this.executor = executor;
        this.queries = queries;
        this.health = health;
        this.evidenceTopic = evidenceTopic;
        this.evidence = evidence;
        this.approvals = approvals;
    }

    /**
     * Serves {@code queries}, {@code evidence} of {@code evidenceTopic}, the probes from {@code health} and the
     * decisions {@code approvals} relays on {@code host:port}; port 0 picks a free one.
     */
    public static QueryServer start(String host, int port, StatusQueries queries, Health health, String evidenceTopic,
            EvidenceReader evidence, ApprovalRelay approvals) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 0);
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "kdiag-status-http");
            t.setDaemon(true);
            return t;
        });
        QueryServer query = new QueryServer(server, executor, queries, health, evidenceTopic, evidence, approvals);
        server.createContext("/", query::handle);
        server.setExecutor(executor);
        server.start();
        return query;
    }

    /** The port it serves on. */
    public int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getRawPath();
            if (Health.isProbe(path)) {
                health.answer(exchange, path);
                return;
            }
            if (path.startsWith(EVIDENCE) && exchange.getRequestMethod().equals("GET")) {
                evidence(exchange);
                return;
            }
            Response response;
            try {
                response = route(exchange);
            } catch (InvalidStateStoreException e) {
                response = error(503, "Unavailable", "the status stores cannot be queried now (" + String.join("; ",
                        health.readinessProblems()) + "); retry");
            } catch (RuntimeException e) {
                LOG.warn("query failed path={} reason={}", exchange.getRequestURI().getRawPath(), e.toString());
                response = error(500, "InternalError", String.valueOf(e.getMessage()));
            }
            if (response.status == 405) {
                exchange.getResponseHeaders().set("Allow", response.allow);
            } else if (response.status == 401) {
                exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer");
            } else if (response.status == 429) {
                exchange.getResponseHeaders().set("Retry-After", "1");
            }
            HttpResponses.send(exchange, response.status, "application/json", response.json);
        }
    }

    private Response route(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getRawPath();
        List<String> segments = path.startsWith(API) ? Arrays.stream(path.substring(API.length()).split("/", -1))
                .map(s -> URLDecoder.decode(s, StandardCharsets.UTF_8)).toList() : List.of();
        boolean decision = segments.size() == 5 && DECISIONS.contains(segments.get(4)) && isAbnormal(segments);
        String method = exchange.getRequestMethod();
        if (decision) {
            return method.equals("POST") ? decide(exchange, segments.get(1), segments.get(3), segments.get(4).equals("approve"))
                    : methodNotAllowed(method, "POST", "an approval or a denial is a POST");
        }
        if (!method.equals("GET")) {
            return methodNotAllowed(method, "GET", "the API is read-only (GET) but for POST .../abnormals/NAME/approve and .../deny");
        }
        if (path.startsWith(API)) {
            if (segments.equals(List.of("abnormals"))) {
                return list(query(exchange).get("namespace"));
            }
            if (segments.size() >= 4 && segments.size() <= 5 && isAbnormal(segments)) {
                String namespace = segments.get(1);
                String name = segments.get(3);
                if (segments.size() == 4) {
                    return one(namespace, name);
                }
                if (segments.get(4).equals("history")) {
                    return history(namespace, name);
                }
            }
        }
        return error(404, "NotFound", "no such endpoint: " + path);
    }

    /** Whether the path's segments are {@code namespaces/NS/abnormals/NAME[/...]}, none empty. */
    private static boolean isAbnormal(List<String> segments) {
        return segments.size() >= 4 && segments.get(0).equals("namespaces") && segments.get(2).equals("abnormals")
                && segments.stream().noneMatch(String::isEmpty);
    }

    /** An approve or deny call: one at a time, its body bounded, then the relay's answer. */
    private Response decide(HttpExchange exchange, String namespace, String name, boolean approved) throws IOException {
        if (!approvals.isOn()) {
            return json(approvals.decide(null, namespace, name, approved, null, queries));
        }
        if (!deciding.tryAcquire()) {
            return error(429, "TooManyRequests", "another approval is being relayed; retry in a second");
        }
        try {
            String length = exchange.getRequestHeaders().getFirst("Content-Length");
            if (length != null && Long.parseLong(length.strip()) > MAX_DECISION_BODY_BYTES) {
                return tooLarge();
            }
            byte[] body = exchange.getRequestBody().readNBytes(MAX_DECISION_BODY_BYTES + 1);
            if (body.length > MAX_DECISION_BODY_BYTES) {
                return tooLarge();
            }
            String reason;
            try {
                reason = reason(new String(body, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                return error(400, "BadRequest", "the body is empty or {\"reason\": \"...\"}: " + e.getMessage());
            }
            return json(approvals.decide(bearer(exchange), namespace, name, approved, reason, queries));
        } catch (NumberFormatException e) {
            return error(400, "BadRequest", "Content-Length is no number");
        } finally {
            deciding.release();
        }
    }

    /** The reason of a decision's body: empty, or a JSON object with at most {@code reason}, a string. */
    private static String reason(String body) {
        if (body.isBlank()) {
            return null;
        }
        Map<String, Object> fields;
        try {
            fields = ApiSerialization.jsonObject(body);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a JSON object");
        }
        for (String field : fields.keySet()) {
            if (!field.equals("reason")) {
                throw new IllegalArgumentException("unknown field " + ApprovalDecisions.quoted(field));
            }
        }
        Object reason = fields.get("reason");
        if (reason != null && !(reason instanceof String)) {
            throw new IllegalArgumentException("reason is not a string");
        }
        if (reason != null && ((String) reason).length() > ApprovalDecisions.MAX_REASON_CHARS) {
            throw new IllegalArgumentException("reason is longer than " + ApprovalDecisions.MAX_REASON_CHARS + " characters");
        }
        return (String) reason;
    }

    /** The token of {@code Authorization: Bearer TOKEN}, or {@code null}. */
    private static String bearer(HttpExchange exchange) {
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        return authorization.substring(7).strip();
    }

    private static Response tooLarge() {
        return error(413, "PayloadTooLarge", "the body of an approval or a denial is at most " + MAX_DECISION_BODY_BYTES + " bytes");
    }

    private static Response methodNotAllowed(String method, String allow, String why) {
        return new Response(405, error(405, "MethodNotAllowed", method + " is not supported here; " + why).json, allow);
    }

    private static Response json(ApprovalRelay.Answer answer) {
        return new Response(answer.status(), ApiSerialization.json(answer.body()));
    }

    private Response list(String namespace) {
        String items = queries.list(namespace).stream()
                .map(s -> ApiSerialization.json(StatusProjection.abnormal(s)))
                .collect(Collectors.joining(","));
        return new Response(200, "{\"items\":[" + items + "]}");
    }

    private Response one(String namespace, String name) {
        Optional<AbnormalStatus> newest = queries.newest(namespace, name);
        return newest.map(s -> new Response(200, ApiSerialization.json(StatusProjection.abnormal(s))))
                .orElseGet(() -> notFound(namespace, name));
    }

    private Response history(String namespace, String name) {
        Optional<AbnormalStatus> newest = queries.newest(namespace, name);
        if (newest.isEmpty()) {
            return notFound(namespace, name);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("uid", newest.get().getUid());
        body.put("events", queries.history(newest.get().getUid()));
        return new Response(200, ApiSerialization.json(body));
    }

    /**
     * Streams a value from the evidence topic. Its chunks are checked as they come and the last one is sent only once
     * the whole value matched its hash, so a client never gets a whole body that is not the value.
     */
    private void evidence(HttpExchange exchange) throws IOException {
        Evidence.Reference reference;
        try {
            reference = Evidence.Reference.fromPath(evidenceTopic, exchange.getRequestURI().getRawPath().substring(EVIDENCE.length()),
                    query(exchange));
        } catch (IllegalArgumentException e) {
            Response bad = error(400, "BadRequest", "an evidence URL is /api/v1/evidence/SHA256?partition=P&offsets=O1,O2,...&bytes=N"
                    + "[&type=MEDIA-TYPE], as the reference in the status says: " + e.getMessage());
            HttpResponses.send(exchange, bad.status, "application/json", bad.json);
            return;
        }
        boolean[] started = {false};
        try {
            evidence.read(reference, chunk -> {
                if (!started[0]) {
                    exchange.getResponseHeaders().set("Content-Type", reference.contentType());
                    // node output served from this origin: never let a browser sniff another type, and run a page (a
                    // profile's flame graph) in an origin of its own that loads nothing and reaches nothing
                    exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
                    exchange.getResponseHeaders().set("Content-Security-Policy", PAGE_POLICY);
                    exchange.sendResponseHeaders(200, reference.bytes() == 0 ? -1 : reference.bytes());
                    started[0] = true;
                }
                exchange.getResponseBody().write(chunk);
            });
            exchange.getResponseBody().close();
        } catch (IOException e) {
            LOG.warn("evidence not served sha256={} partition={} reason={}", reference.sha256(), reference.partition(), e.getMessage());
            if (!started[0]) {
                Response gone = error(404, "NotFound", e.getMessage());
                HttpResponses.send(exchange, gone.status, "application/json", gone.json);
            }
            // once started, the body ends short of its length: the client sees the transfer fail
        }
    }

    private static Response notFound(String namespace, String name) {
        return error(404, "NotFound", "abnormal " + namespace + "/" + name + " not found");
    }

    private static Map<String, String> query(HttpExchange exchange) {
        String raw = exchange.getRequestURI().getRawQuery();
        Map<String, String> params = new LinkedHashMap<>();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    params.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
        }
        return params;
    }

    private static Response error(int status, String reason, String message) {
        return json(ApprovalRelay.Answer.error(status, reason, message));
    }

    /** Stops serving at once. */
    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    /** @param allow the methods a 405 names */
    private record Response(int status, String json, String allow) {
        Response(int status, String json) {
            this(status, json, null);
        }
    }
}
