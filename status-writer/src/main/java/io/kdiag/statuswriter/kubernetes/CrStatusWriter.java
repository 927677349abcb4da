package io.kdiag.statuswriter.kubernetes;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kdiag.api.Annotations;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.common.kubernetes.AbnormalResources;
import io.kdiag.model.StatusProjection;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Origin;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Projects snapshots to the status subresource of their Abnormal CRs on a thread of its own, so the stream thread
 * never waits for the API server. {@link #offer} keeps only the latest snapshot per abnormal (coalescing) in a
 * bounded map; the writer thread takes them oldest first at most {@code writesPerSecond} a second.
 *
 * <p>A write reads the CR by namespace and name, skips it when it is gone (404) or belongs to another run (its
 * {@link Annotations#runUid} differs), and replaces its status with the projection, under the resourceVersion it
 * read: a 409 means someone wrote in between, so it reads again and retries. A failed write is retried after a
 * back-off unless a newer snapshot replaced it. When the map overflows, or at start, a resync lists the CRs and
 * queues every local snapshot whose CR shows something else.
 *
 * <p>A recent abnormal that did not start as a CR and has none gets one created, annotated with its run uid, as the
 * bridge would have done: the bridge creates it only after its transaction commits, so a bridge crash can lose it.
 *
 * <p>Counts {@code kdiag_status_writes_total{result}}: written, unchanged, conflict (per 409), not-found,
 * uid-mismatch, dropped (map full; the resync catches up), error, created.
 */
public final class CrStatusWriter implements AutoCloseable {
    /** CR status writes by {@code result}. */
    public static final String METRIC = "kdiag.status.writes";
    /** Abnormals waiting for a write; beyond it snapshots are dropped and a resync is due. */
    static final int MAX_QUEUED = 10_000;
    private static final Duration FLUSH_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration MIN_BACKOFF = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    private static final Logger LOG = LoggerFactory.getLogger(CrStatusWriter.class);

    /** What one write did. */
    enum Result {
        WRITTEN, UNCHANGED, NOT_FOUND, UID_MISMATCH, ERROR;

        String tag() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    private final AbnormalResources resources;
    private final Duration recreateWindow;
    private final Supplier<List<AbnormalStatus>> localSnapshots;
    private final long intervalNanos;
    private final MeterRegistry registry;
    private final Thread thread;
    private final Object lock = new Object();
    private final LinkedHashMap<String, AbnormalStatus> queued = new LinkedHashMap<>();
    private boolean resyncDue;
    private boolean closing;
    private long nextWriteNanos = System.nanoTime();
    private Duration backoff = MIN_BACKOFF;

    /**
     * A writer to {@code client}'s cluster, at most {@code writesPerSecond} writes a second, counting them in
     * {@code registry}.
     *
     * @param recreateWindow how recent an abnormal that did not start as a CR must be for its missing CR to be created
     * @param localSnapshots every snapshot this instance holds, for resyncs; throws while the stores are not queryable
     */
    public CrStatusWriter(KubernetesClient client, int writesPerSecond, Duration recreateWindow, MeterRegistry registry,
                   Supplier<List<AbnormalStatus>> localSnapshots) {
        this.resources = new AbnormalResources(client);
        this.recreateWindow = recreateWindow;
        this.localSnapshots = localSnapshots;
        this.intervalNanos = Duration.ofSeconds(1).toNanos() / writesPerSecond;
        this.registry = registry;
        this.thread = new Thread(this::run, "kdiag-status-cr-writer");
        this.thread.setDaemon(true);
    }

    /** Starts the writer thread, with a resync first so CRs missed while this instance was down catch up. */
    public void start() {
        synchronized (lock) {
            resyncDue = true;
        }
        thread.start();
    }

    /** Queues the snapshot for its CR, replacing an older queued one of the same abnormal. Never blocks for long. */
    public void offer(AbnormalStatus snapshot) {
        synchronized (lock) {
            AbnormalStatus waiting = queued.get(snapshot.getUid());
            if (waiting != null) {
                if (waiting.getLastSeq() <= snapshot.getLastSeq()) {
                    queued.put(snapshot.getUid(), snapshot);
                }
                return;
            }
            if (queued.size() >= MAX_QUEUED) {
                count("dropped");
                resyncDue = true;
                return;
            }
            queued.put(snapshot.getUid(), snapshot);
            lock.notifyAll();
        }
    }

    private void run() {
        long flushDeadline = 0;
        while (true) {
            AbnormalStatus next = null;
            boolean resync = false;
            synchronized (lock) {
                try {
                    while (!closing && queued.isEmpty() && !resyncDue) {
                        lock.wait();
                    }
                } catch (InterruptedException e) {
                    return;
                }
                if (closing) {
                    flushDeadline = flushDeadline == 0 ? System.nanoTime() + FLUSH_TIMEOUT.toNanos() : flushDeadline;
                    if (queued.isEmpty() || System.nanoTime() > flushDeadline) {
                        return;
                    }
                }
                if (!queued.isEmpty()) {
                    Iterator<AbnormalStatus> first = queued.values().iterator();
                    next = first.next();
                    first.remove();
                } else {
                    resync = !closing;
                    resyncDue = false;
                }
            }
            try {
                if (next != null) {
                    awaitPermit();
                    if (write(next) == Result.ERROR) {
                        retryLater(next);
                    } else {
                        backoff = MIN_BACKOFF;
                    }
                } else if (resync) {
                    resync();
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void awaitPermit() throws InterruptedException {
        long wait = nextWriteNanos - System.nanoTime();
        if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
        nextWriteNanos = Math.max(nextWriteNanos, System.nanoTime() - intervalNanos) + intervalNanos;
    }

    private void retryLater(AbnormalStatus failed) {
        synchronized (lock) {
            queued.putIfAbsent(failed.getUid(), failed);
        }
        nextWriteNanos = System.nanoTime() + backoff.toNanos();
        backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
    }

    /** Writes one snapshot to its CR now, on the calling thread. */
    Result write(AbnormalStatus snapshot) {
        String namespace = snapshot.getNamespace();
        String name = snapshot.getName();
        try {
            AbnormalResources.Write write = resources.writeStatus(namespace, name, snapshot.getUid(), StatusProjection.status(snapshot),
                    lostByTheBridge(snapshot) ? () -> create(snapshot) : null);
            for (int i = 0; i < write.conflicts(); i++) {
                count("conflict");
            }
            return switch (write.result()) {
                case WRITTEN -> {
                    LOG.debug("status written namespace={} name={} uid={} lastSeq={} phase={}", namespace, name, snapshot.getUid(),
                            snapshot.getLastSeq(), snapshot.getPhase());
                    yield counted(Result.WRITTEN);
                }
                case UNCHANGED -> counted(Result.UNCHANGED);
                case NOT_FOUND -> {
                    LOG.debug("status not written: abnormal deleted namespace={} name={} uid={}", namespace, name, snapshot.getUid());
                    yield counted(Result.NOT_FOUND);
                }
                case UID_MISMATCH -> {
                    LOG.debug("status not written: abnormal belongs to another run namespace={} name={} uid={}", namespace, name,
                            snapshot.getUid());
                    yield counted(Result.UID_MISMATCH);
                }
                case CONFLICTED -> {
                    LOG.warn("status not written: still conflicting after {} attempts namespace={} name={} uid={}", write.conflicts(),
                            namespace, name, snapshot.getUid());
                    yield counted(Result.ERROR);
                }
            };
        } catch (KubernetesClientException e) {
            LOG.warn("status not written namespace={} name={} uid={} code={} reason={}", namespace, name, snapshot.getUid(),
                    e.getCode(), e.getMessage());
            return counted(Result.ERROR);
        }
    }

    /**
     * Whether the missing CR is one the bridge should have created and may have lost: the abnormal did not start as a
     * CR (the bridge creates one after forwarding it, and a crash between the two loses it) and is recent enough that
     * garbage collection cannot have deleted it. A CR a user deleted later is not brought back once that window passed.
     */
    private boolean lostByTheBridge(AbnormalStatus snapshot) {
        Origin origin = snapshot.getOrigin();
        return origin != Origin.CustomResource && origin != Origin.Unknown && snapshot.getStartTime() != null
                && snapshot.getStartTime().isAfter(Instant.now().minus(recreateWindow));
    }

    /** Creates the CR of an abnormal that did not start as one, as the bridge does; an existing one is left alone. */
    private void create(AbnormalStatus snapshot) {
        if (resources.create(snapshot.getNamespace(), snapshot.getName(), snapshot.getLabels(), ApiSerialization.spec(snapshot.getSpec()),
                snapshot.getUid(), snapshot.getOrigin())) {
            count("created");
            LOG.info("abnormal resource created namespace={} name={} uid={}", snapshot.getNamespace(), snapshot.getName(), snapshot.getUid());
        }
    }

    /** Queues every local snapshot whose CR (of the same run) shows another status. */
    void resync() {
        List<AbnormalStatus> snapshots;
        List<Abnormal> crs;
        try {
            snapshots = localSnapshots.get();
            crs = resources.list();
        } catch (RuntimeException e) {
            LOG.warn("status resync skipped reason={}", e.toString());
            return;
        }
        Map<String, Abnormal> byRun = new HashMap<>();
        crs.forEach(cr -> byRun.put(Annotations.runUid(cr), cr));
        int stale = 0;
        for (AbnormalStatus snapshot : snapshots) {
            Abnormal cr = byRun.get(snapshot.getUid());
            if (cr != null && cr.getMetadata().getNamespace().equals(snapshot.getNamespace())
                    && cr.getMetadata().getName().equals(snapshot.getName())
                    && !AbnormalResources.sameStatus(cr.getStatus(), StatusProjection.status(snapshot))) {
                offer(snapshot);
                stale++;
            }
        }
        LOG.info("status resync done abnormals={} crs={} stale={}", snapshots.size(), crs.size(), stale);
    }

    private Result counted(Result result) {
        count(result.tag());
        return result;
    }

    private void count(String result) {
        counter(registry, result).increment();
    }

    private static Counter counter(MeterRegistry registry, String result) {
        return Counter.builder(METRIC).description("Abnormal CR status writes, by result").tag("result", result).register(registry);
    }

    /** Every result at zero from the start (with or without a cluster), so rate() has a series before the first write. */
    public static void registerMetrics(MeterRegistry registry) {
        for (Result result : Result.values()) {
            counter(registry, result.tag());
        }
    }

    /** Writes what is queued (for up to 10 seconds), then stops the thread. */
    @Override
    public void close() {
        synchronized (lock) {
            closing = true;
            lock.notifyAll();
        }
        try {
            thread.join(FLUSH_TIMEOUT.plusSeconds(5).toMillis());
            if (thread.isAlive()) {
                thread.interrupt();
                thread.join(Duration.ofSeconds(5).toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (lock) {
            if (!queued.isEmpty()) {
                LOG.warn("status writes left undone at close abnormals={}; they catch up at the next start", queued.size());
            }
        }
    }
}
