package io.kdiag.profilers;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.schemas.Evidence;
import io.kdiag.stageworkers.spi.EvidenceStore;
import io.kdiag.stageworkers.spi.ProfilerEngine;
import io.kdiag.stageworkers.spi.WorkContext;

/**
 * {@code go}: reads a pprof profile from {@code spec.go.source}, either a {@code net/http/pprof} endpoint
 * ({@code http://host:port/debug/pprof/profile}, {@code .../heap}, {@code .../goroutine}; a CPU profile without
 * {@code seconds} samples for the timeout) or a profile file on the node, and draws it as a flame graph. The profile
 * is parsed in the agent: no Go toolchain is needed.
 */
public final class GoProfiler implements ProfilerEngine {
    /** Profiles larger than this are refused. */
    static final int MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024;

    private final HttpClient http = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NORMAL)
            .build();

    /** The engine, as the service loader creates it. */
    public GoProfiler() {
    }

    @Override
    public String language() {
        return "go";
    }

    @Override
    public Evidence.Reference profile(ProfilerSpec spec, WorkContext ctx, Duration timeout, EvidenceStore evidence) throws ProfilerException {
        String source = spec.go == null || spec.go.source == null ? "" : spec.go.source.strip();
        byte[] raw;
        if (source.startsWith("http://") || source.startsWith("https://")) {
            raw = download(source, Profiles.seconds(timeout), timeout.plus(Profiles.GRACE));
        } else if (source.startsWith("/")) {
            raw = readHostFile(ctx, source);
        } else {
            throw new ProfilerException("go.source must be a pprof URL (http:// or https://) or an absolute path of a "
                    + "profile file on the node, got '" + source + "'");
        }
        Pprof.Profile profile;
        try {
            profile = Pprof.parse(raw);
        } catch (IllegalArgumentException e) {
            throw new ProfilerException(source + " is not a pprof profile in the binary format (an endpoint must be "
                    + "asked without debug=1): " + e.getMessage(), e);
        }
        FlameGraph.Header header = new FlameGraph.Header(spec.name + ": Go " + profile.sampleType() + " profile of " + source,
                "Go " + profile.sampleType() + " (pprof)", profile.unit());
        return Profiles.publishFlameGraph(ctx, evidence, spec.name,
                new Profiles.Raw(Pprof.isGzip(raw) ? "profile.pb.gz" : "profile.pb", "application/octet-stream", raw), header, profile.stacks());
    }

    /**
     * The URL with {@code seconds} set from the timeout if it is a CPU profile endpoint without it; Go's default,
     * 30 s, would otherwise ignore the timeout.
     */
    static String withSeconds(String url, long seconds) {
        URI uri = URI.create(url);
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        String query = uri.getRawQuery();
        if (!path.endsWith("/profile") || query != null && ("&" + query).contains("&seconds=")) {
            return url;
        }
        String base = uri.getRawFragment() == null ? url : url.substring(0, url.indexOf('#'));
        return base + (query == null ? "?" : "&") + "seconds=" + seconds;
    }

    private byte[] download(String source, long seconds, Duration timeout) throws ProfilerException {
        String url;
        HttpRequest request;
        try {
            url = withSeconds(source, seconds);
            request = HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET().build();
        } catch (IllegalArgumentException e) {
            throw new ProfilerException("go.source is not a valid URL: " + e.getMessage(), e);
        }
        try {
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = response.body()) {
                byte[] bytes = body.readNBytes(MAX_DOWNLOAD_BYTES + 1);
                if (response.statusCode() != 200) {
                    String text = new String(bytes, 0, Math.min(bytes.length, 500), StandardCharsets.UTF_8).strip();
                    throw new ProfilerException("GET " + url + " returned HTTP " + response.statusCode() + ": " + text);
                }
                if (bytes.length > MAX_DOWNLOAD_BYTES) {
                    throw new ProfilerException("the profile at " + url + " is larger than " + MAX_DOWNLOAD_BYTES + " bytes");
                }
                return bytes;
            }
        } catch (IOException e) {
            throw new ProfilerException("cannot read the profile at " + url + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProfilerException("interrupted while reading the profile at " + url, e);
        }
    }

    private static byte[] readHostFile(WorkContext ctx, String source) throws ProfilerException {
        try {
            Path file = ctx.host().resolve(source);
            if (!Files.isRegularFile(file)) {
                throw new ProfilerException("no profile file " + source + " on this node");
            }
            if (Files.size(file) > MAX_DOWNLOAD_BYTES) {
                throw new ProfilerException("the profile " + source + " is larger than " + MAX_DOWNLOAD_BYTES + " bytes");
            }
            return Files.readAllBytes(file);
        } catch (IllegalArgumentException e) {
            throw new ProfilerException(e.getMessage(), e);
        } catch (IOException e) {
            throw new ProfilerException("cannot read the profile " + source + ": " + e.getMessage(), e);
        }
    }
}
