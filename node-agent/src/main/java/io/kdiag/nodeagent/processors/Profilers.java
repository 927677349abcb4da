package io.kdiag.nodeagent.processors;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.schemas.Evidence;
import io.kdiag.stageworkers.spi.EvidenceStore;
import io.kdiag.stageworkers.spi.ProfilerEngine;
import io.kdiag.stageworkers.spi.WorkContext;

/**
 * The profiler engines on the class path, by language. An engine call gets its timeout plus a grace period to return
 * before it is abandoned.
 *
 * <p>The engines and the thread pool are created at the first profile: an engine may hold an HTTP client with its
 * TLS context and selector thread, several MiB an agent that never profiles need not carry.
 */
public final class Profilers implements AutoCloseable {
    /** Seconds a profile may take when the spec gives none. */
    public static final int DEFAULT_TIMEOUT_SECONDS = 30;
    /** Beyond the sampling window: engines launch jcmd two or three times and give themselves 15 s for it. */
    private static final Duration GRACE = Duration.ofSeconds(20);

    /** The outcome of one profiler: its page, kept as evidence, or why there is none. */
    public record Outcome(Evidence.Reference page, String error) {
    }

    private final Supplier<List<ProfilerEngine>> found;
    private Map<String, ProfilerEngine> engines;
    private ExecutorService executor;
    private boolean closed;

    Profilers(List<ProfilerEngine> engines) {
        this(() -> engines);
    }

    /** {@code found} is asked once, at the first profile. */
    Profilers(Supplier<List<ProfilerEngine>> found) {
        this.found = found;
    }

    /** The engines registered through {@code META-INF/services/io.kdiag.stageworkers.spi.ProfilerEngine}, created at the first profile. */
    public static Profilers fromClassPath() {
        return new Profilers(() -> ServiceLoader.load(ProfilerEngine.class, Profilers.class.getClassLoader()).stream()
                .map(ServiceLoader.Provider::get).toList());
    }

    /** The engines by language, created at the first call. */
    private synchronized Map<String, ProfilerEngine> engines() {
        if (engines == null) {
            Map<String, ProfilerEngine> byLanguage = new LinkedHashMap<>();
            for (ProfilerEngine engine : found.get()) {
                byLanguage.putIfAbsent(engine.language(), engine);
            }
            engines = byLanguage;
        }
        return engines;
    }

    /** The pool engine calls run in, created at the first call. */
    private synchronized ExecutorService executor() {
        if (closed) {
            throw new IllegalStateException("the profilers are closed");
        }
        if (executor == null) {
            AtomicInteger threads = new AtomicInteger();
            executor = Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "kdiag-profiler-" + threads.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        }
        return executor;
    }

    /** The language of a profiler spec: the one of {@code go}, {@code java}, {@code python} that is set. */
    public static String language(ProfilerSpec spec) {
        return spec.go != null ? "go" : spec.java != null ? "java" : spec.python != null ? "python" : "unknown";
    }

    /**
     * Takes a profile; never throws for the engine's faults.
     *
     * @throws InterruptedException if the calling thread is interrupted; the engine call is cancelled
     */
    public Outcome run(ProfilerSpec spec, WorkContext ctx, Duration timeout, EvidenceStore evidence) throws InterruptedException {
        String language = language(spec);
        ProfilerEngine engine = engines().get(language);
        if (engine == null) {
            return new Outcome(null, "profiler " + spec.name + ": " + language + " profiling is not available in this agent"
                    + " (no profiler engine for " + language + " is installed)");
        }
        Future<Evidence.Reference> call = executor().submit(() -> engine.profile(spec, ctx, timeout, evidence));
        try {
            Evidence.Reference page = call.get(timeout.plus(GRACE).toMillis(), TimeUnit.MILLISECONDS);
            if (page == null) {
                return new Outcome(null, "profiler " + spec.name + ": the " + language + " engine returned no result");
            }
            return new Outcome(page, null);
        } catch (TimeoutException e) {
            call.cancel(true);
            return new Outcome(null, "profiler " + spec.name + " did not finish within " + timeout.toSeconds() + " s");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            return new Outcome(null, "profiler " + spec.name + ": " + (cause.getMessage() == null
                    ? cause.getClass().getSimpleName() : cause.getMessage()));
        } catch (InterruptedException e) {
            call.cancel(true);
            throw e;
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}
