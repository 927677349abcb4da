package io.kdiag.nodeagent.run;

import java.io.IOException;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import io.kdiag.nodeagent.processors.Profilers;
import io.kdiag.schemas.avro.ProfilerExpired;
import io.kdiag.stageworkers.spi.Artifact;
import io.kdiag.stageworkers.spi.ArtifactStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes expired artifacts and reports the profiles among them with {@code ProfilerExpired}, after the end of their
 * abnormal. The sweep runs on a housekeeping thread; the reports are sent by the consumer thread, which owns the
 * events.
 */
public final class ProfileExpiry {
    private static final Logger LOG = LoggerFactory.getLogger(ProfileExpiry.class);

    /** An expired profile whose ProfilerExpired is still to be sent; {@code seq} once one was reserved. */
    private record Expiry(String uid, String profilerName, long seq) {
    }

    private final ArtifactStore artifacts;
    private final Profilers profilers;
    private final EventLog log;
    private final Queue<Expiry> expired = new ConcurrentLinkedQueue<>();

    /** {@code profilers}: which abnormal each served profile belongs to. */
    public ProfileExpiry(ArtifactStore artifacts, Profilers profilers, EventLog log) {
        this.artifacts = artifacts;
        this.profilers = profilers;
        this.log = log;
    }

    /** Deletes expired artifacts; {@code true} when a profile among them waits for {@link #reportExpired()}. */
    public boolean sweep() {
        try {
            boolean profileExpired = false;
            for (Artifact artifact : artifacts.expire()) {
                Optional<Profilers.Owner> owner = profilers.expired(artifact);
                owner.ifPresent(o -> expired.add(new Expiry(o.uid(), o.profilerName(), -1)));
                profileExpired |= owner.isPresent();
            }
            return profileExpired;
        } catch (IOException | RuntimeException e) {
            LOG.warn("expired artifacts not deleted node={} reason={}", log.nodeName(), e.toString());
            return false;
        }
    }

    /**
     * Sends {@code ProfilerExpired} for profiles that expired: the seq continues from the journal and is reserved like
     * any other. An undelivered one is sent again at the same seq.
     */
    public void reportExpired() throws InterruptedException {
        for (int n = expired.size(); n > 0; n--) {
            Expiry expiry = expired.poll();
            Journal.Entry entry = log.journal().entry(expiry.uid()).orElse(null);
            if (entry == null || !entry.finished()) {
                // forgotten by the journal, or (after a crash) ended by endUnfinished first: nothing to continue
                continue;
            }
            long seq = expiry.seq() >= 0 ? expiry.seq() : entry.lastSeq() + 1;
            AbnormalEvents events = log.events(expiry.uid(), seq);
            try {
                events.emit(new ProfilerExpired(expiry.profilerName()));
                events.finish();
                LOG.info("profile expired uid={} node={} profiler={} seq={}", expiry.uid(), log.nodeName(), expiry.profilerName(), seq);
            } catch (EventSink.DeliveryException e) {
                LOG.warn("profiler expiry not delivered uid={} node={} reason={}", expiry.uid(), log.nodeName(), e.getMessage());
                expired.add(new Expiry(expiry.uid(), expiry.profilerName(), seq));
            }
        }
    }
}
