package io.kdiag.stageworkers;

import java.io.ByteArrayOutputStream;
import java.net.ConnectException;
import java.net.ProxySelector;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.kdiag.api.Annotations;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.ProcessorSpec;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.stageworkers.spi.WorkResult;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls a processor over KubeDiag's own protocol, unchanged so that processors written for KubeDiag keep working:
 * {@code POST} the whole Abnormal as JSON, expect 200 and the Abnormal back, at most 2 MiB, with nothing but
 * {@code status.context} changed.
 *
 * <p>The answer is read as KubeDiag's agent read it, which decoded it with Go's {@code encoding/json} onto a copy of
 * what it sent ({@link ProcessorAnswer}): what the answer leaves out stays as sent, so {@code {}}, {@code null} and an
 * Abnormal without {@code spec} are all "unchanged"; what a Go processor writes back of its own (zero values such as
 * {@code "identifiable": false} or {@code "reportingComponent": ""}, times in another offset, fields its types do not
 * know left out) is no change either. A context in the answer replaces the one sent: the entries that differ become
 * the result's updates, the keys that disappeared its removals.
 *
 * <p>TLS: a processor's certificate and host name are verified, unless its registration carries
 * {@code kdiag.io/insecure-skip-tls-verify: "true"} (KubeDiag verified none); such calls are logged as a warning once
 * per processor URL and counted in {@code kdiag_agent_insecure_tls_calls_total{processor}}.
 */
public final class RemoteProcessor {
    /** Largest response body read (the original's {@code MaxDataSize}). */
    public static final int MAX_RESPONSE_BYTES = 2 * 1024 * 1024;
    /** Largest part of an error response put in a message. */
    static final int EXCERPT_BYTES = 512;
    /** Seconds a call may take when its registration gives none (the original's default). */
    public static final int DEFAULT_TIMEOUT_SECONDS = 30;
    /** Header carrying the per-process token of the agent's calls to itself. */
    public static final String TOKEN_HEADER = "X-Kdiag-Agent-Token";
    /** Header carrying the origin of the abnormal in the agent's calls to itself. */
    public static final String ORIGIN_HEADER = "X-Kdiag-Origin";

    /** Calls made without verifying the processor's certificate, by {@code processor} URL. */
    static final String INSECURE_TLS_CALLS = "kdiag.agent.insecure.tls.calls";
    private static final Logger LOG = LoggerFactory.getLogger(RemoteProcessor.class);

    private final URI ownServer;
    private final String selfToken;
    private final MeterRegistry registry;
    private final Set<URI> warnedInsecure = ConcurrentHashMap.newKeySet();
    /** Created at the first call: a client brings a TLS context and a selector thread, unused without registered processors. */
    private HttpClient client;
    private HttpClient insecureClient;

    /**
     * @param ownServer base URL of this agent's HTTP server, for registrations without an address of their own
     * @param selfToken what the agent's calls to itself carry in {@link #TOKEN_HEADER}
     * @param registry where the calls without TLS verification are counted
     */
    public RemoteProcessor(URI ownServer, String selfToken, MeterRegistry registry) {
        this.ownServer = ownServer;
        this.selfToken = selfToken;
        this.registry = registry;
    }

    private synchronized HttpClient client(boolean insecure) {
        if (!insecure) {
            if (client == null) {
                client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).proxy(ProxySelector.of(null)).build();
            }
            return client;
        }
        if (insecureClient == null) {
            insecureClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).proxy(ProxySelector.of(null))
                    .sslContext(TrustingEverything.sslContext()).build();
        }
        return insecureClient;
    }

    /**
     * The URL of a registration: {@code externalIP}/{@code externalPort} (v0.1.6), else {@code ip}/{@code port}
     * (v0.1.0–v0.1.5), else this agent's own server; scheme {@code http} unless given.
     *
     * @throws IllegalArgumentException if the registration does not make a valid http or https URL
     */
    public URI url(ProcessorSpec registration) {
        String path = registration.path == null || registration.path.isEmpty() ? "/"
                : registration.path.startsWith("/") ? registration.path : "/" + registration.path;
        // KubeDiag's agent lower-cased it: HTTPS works as https
        String scheme = registration.scheme == null || registration.scheme.isBlank() ? "http" : registration.scheme.strip().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("scheme " + scheme + " is neither http nor https");
        }
        String host;
        int port;
        if (registration.externalIP != null && registration.externalPort != null) {
            host = registration.externalIP;
            port = registration.externalPort;
        } else if (registration.ip != null && !registration.ip.isBlank() && registration.port != null) {
            host = registration.ip;
            try {
                port = registration.port.getIntVal() != null ? registration.port.getIntVal() : Integer.parseInt(registration.port.getStrVal().strip());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("port " + registration.port.getStrVal() + " is not a number");
            }
        } else {
            return ownServer.resolve(path);
        }
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port " + port + " is not between 1 and 65535");
        }
        try {
            return new URI(scheme, null, host, port, path, null, null);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a valid URL: " + e.getMessage(), e);
        }
    }

    /**
     * Sends {@code abnormal} to {@code url}; never throws for the processor's faults. A call to this agent's own server
     * carries the token and {@code origin}, so the built-in it reaches is not checked again as origin {@code Unknown}.
     *
     * @param timeout for the whole exchange, body included
     * @param insecure whether to skip verifying an https processor's certificate and host name
     * @param origin the origin of the abnormal
     * @throws InterruptedException if the calling thread is interrupted; the exchange is abandoned
     */
    public WorkResult call(URI url, Duration timeout, boolean insecure, Abnormal abnormal, Origin origin) throws InterruptedException {
        String sent = ApiSerialization.json(abnormal);
        byte[] body = sent.getBytes(StandardCharsets.UTF_8);
        HttpRequest.Builder builder = HttpRequest.newBuilder(url)
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (url.getHost().equals(ownServer.getHost()) && url.getPort() == ownServer.getPort()) {
            builder.header(TOKEN_HEADER, selfToken).header(ORIGIN_HEADER, origin.name());
        }
        HttpRequest request = builder.build();
        boolean skipVerification = insecure && "https".equals(url.getScheme());
        if (skipVerification) {
            registry.counter(INSECURE_TLS_CALLS, "processor", url.toString()).increment();
            if (warnedInsecure.add(url)) {
                LOG.warn("calling processor={} without verifying its TLS certificate or host name, as its registration asks ({})", url,
                        Annotations.INSECURE_SKIP_TLS_VERIFY);
            }
        }
        CompletableFuture<HttpResponse<CappedBody.Result>> exchange = client(skipVerification).sendAsync(request,
                info -> new CappedBody(info.statusCode() == 200 ? MAX_RESPONSE_BYTES : EXCERPT_BYTES, info.statusCode() == 200));
        HttpResponse<CappedBody.Result> response;
        try {
            response = exchange.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            exchange.cancel(true);
            return timedOut(url, timeout);
        } catch (InterruptedException e) {
            exchange.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (causedBy(cause, HttpTimeoutException.class)) {
                return timedOut(url, timeout);
            }
            if (causedBy(cause, CappedBody.TooLarge.class)) {
                return WorkResult.failed("ResponseTooLarge", "processor " + url + " answered more than " + MAX_RESPONSE_BYTES
                        + " bytes, the limit of the protocol");
            }
            String what = cause instanceof ConnectException ? "cannot connect" : "request failed";
            return WorkResult.failed("RemoteError", "processor " + url + ": " + what + ": "
                    + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage()));
        }
        CappedBody.Result result = response.body();
        if (response.statusCode() != 200) {
            return WorkResult.failed("RemoteError", "processor " + url + " answered " + response.statusCode() + ": "
                    + new String(result.bytes(), StandardCharsets.UTF_8).strip() + (result.truncated() ? " [truncated]" : ""));
        }
        return compare(url, sent, new String(result.bytes(), StandardCharsets.UTF_8));
    }

    private static boolean causedBy(Throwable error, Class<? extends Throwable> type) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private static WorkResult timedOut(URI url, Duration timeout) {
        return WorkResult.failed("Timeout", "processor " + url + " did not answer within " + timeout.toSeconds() + " s");
    }

    /** Checks the answer against the JSON that was sent and turns its context into updates and removals. */
    @SuppressWarnings("unchecked")
    static WorkResult compare(URI url, String sent, String answer) {
        Map<String, Object> sentAbnormal = ApiSerialization.jsonObject(sent);
        ProcessorAnswer read;
        try {
            read = ProcessorAnswer.read(sentAbnormal, answer);
        } catch (ProcessorAnswer.NotAnAbnormal e) {
            return WorkResult.failed("InvalidResponse", "processor " + url + " did not answer an Abnormal: " + e.getMessage());
        }
        if (read.changed() != null) {
            return WorkResult.failed("InvalidResponse", "processor " + url + " changed " + read.changed() + "; only status.context may change");
        }
        if (read.context().isEmpty()) {
            return WorkResult.succeeded(Map.of(), Set.of());
        }
        Map<String, Object> before = sentAbnormal.get("status") instanceof Map<?, ?> status
                && status.get("context") instanceof Map<?, ?> context ? (Map<String, Object>) context : Map.of();
        Map<String, Object> after = read.context().get();
        Map<String, Object> updates = new LinkedHashMap<>();
        after.forEach((key, value) -> {
            if (!before.containsKey(key) || !Objects.equals(before.get(key), value)) {
                updates.put(key, value);
            }
        });
        Set<String> removed = new LinkedHashSet<>(before.keySet());
        removed.removeAll(after.keySet());
        return WorkResult.succeeded(updates, removed);
    }

    /** Collects a response body up to a cap: beyond it, a 200 fails with {@link TooLarge}, an error is truncated. */
    private static final class CappedBody implements HttpResponse.BodySubscriber<CappedBody.Result> {
        record Result(byte[] bytes, boolean truncated) {
        }

        static final class TooLarge extends RuntimeException {
            private static final long serialVersionUID = 1L;

            TooLarge() {
                super("response too large", null, false, false);
            }
        }

        private final int cap;
        private final boolean failWhenTooLarge;
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private final CompletableFuture<Result> result = new CompletableFuture<>();
        private Flow.Subscription subscription;

        CappedBody(int cap, boolean failWhenTooLarge) {
            this.cap = cap;
            this.failWhenTooLarge = failWhenTooLarge;
        }

        @Override
        public CompletionStage<Result> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            for (ByteBuffer buffer : buffers) {
                int room = cap - kept.size();
                if (buffer.remaining() > room) {
                    byte[] part = new byte[room];
                    buffer.get(part);
                    kept.write(part, 0, part.length);
                    subscription.cancel();
                    if (failWhenTooLarge) {
                        result.completeExceptionally(new TooLarge());
                    } else {
                        result.complete(new Result(kept.toByteArray(), true));
                    }
                    return;
                }
                byte[] bytes = new byte[buffer.remaining()];
                buffer.get(bytes);
                kept.write(bytes, 0, bytes.length);
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable error) {
            result.completeExceptionally(error);
        }

        @Override
        public void onComplete() {
            result.complete(new Result(kept.toByteArray(), false));
        }
    }
}
