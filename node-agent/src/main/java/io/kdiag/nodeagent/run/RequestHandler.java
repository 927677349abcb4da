package io.kdiag.nodeagent.run;

import java.util.Map;

import io.kdiag.schemas.avro.AbnormalRequest;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides from the journal what becomes of an abnormal request: a new one runs, a finished one is skipped as a
 * duplicate, and one whose earlier attempt had started work is ended rather than run twice.
 */
public final class RequestHandler {
    private static final Logger LOG = LoggerFactory.getLogger(RequestHandler.class);
    /** Longest uid, and name, an abnormal can have (Kubernetes names): CR uids are 36 characters. */
    static final int MAX_NAME_CHARS = 253;

    private final StageRunner stages;
    private final EventLog log;
    private final AgentMetrics metrics;

    /** {@code log}: the journal that says what became of earlier requests, and where events go. */
    public RequestHandler(StageRunner stages, EventLog log, AgentMetrics metrics) {
        this.stages = stages;
        this.log = log;
        this.metrics = metrics;
    }

    /** At start: ends the abnormals a previous run left unfinished after they had started work. */
    public void endUnfinished(String cause) throws InterruptedException, EventSink.DeliveryException {
        for (Map.Entry<String, Journal.Entry> e : log.journal().unfinished().entrySet()) {
            // one that stopped right after Accepted did no work: its record is read again and it runs from the start
            if (!e.getValue().onlyAccepted()) {
                stages.endInterrupted(e.getValue(), log.events(e.getKey(), e.getValue().lastSeq()), cause);
            }
        }
    }

    /**
     * Why no event can stand for this request, so that it can only be dead-lettered; {@code null} when it can run (or
     * fail with a reason of its own, such as an invalid spec).
     */
    public static String unrunnable(AbnormalRequest request) {
        String uid = request.getUid();
        if (uid.isBlank()) {
            return "the request has no uid";
        }
        for (String[] field : new String[][] {{"uid", uid}, {"name", request.getName()}, {"namespace", request.getNamespace()}}) {
            if (field[1].length() > MAX_NAME_CHARS) {
                return "the request's " + field[0] + " has " + field[1].length() + " characters; an abnormal's has at most " + MAX_NAME_CHARS;
            }
        }
        return null;
    }

    /** Handles one request; {@code false} when its events could not be delivered and it must be read again. */
    public boolean handle(AbnormalRequest request) throws InterruptedException {
        String uid = request.getUid();
        Journal.Entry known = log.journal().entry(uid).orElse(null);
        try {
            if (known != null && known.finished()) {
                LOG.info("abnormal skipped uid={} node={} reason={}", uid, log.nodeName(), "Duplicate");
            } else if (known != null && !known.onlyAccepted()) {
                // an earlier attempt lost its events on the way to Kafka: end it rather than run anything twice
                stages.endInterrupted(known, log.events(uid, known.lastSeq()), "the agent could not deliver its events");
            } else {
                // new, or an earlier attempt stopped before any work: run it from the start
                run(request);
            }
        } catch (EventSink.DeliveryException e) {
            if (e.getCause() instanceof RecordTooLargeException) {
                // no retry makes this event smaller: end the abnormal rather than read its request forever
                return endUndeliverable(uid, e);
            }
            LOG.warn("events not delivered uid={} node={}", uid, log.nodeName(), e);
            return false;
        }
        return true;
    }

    /** Ends an abnormal one of whose events Kafka refused for its size; {@code false} if even that cannot be delivered. */
    private boolean endUndeliverable(String uid, EventSink.DeliveryException refused) throws InterruptedException {
        LOG.error("event refused by Kafka as too large uid={} node={}", uid, log.nodeName(), refused);
        Journal.Entry entry = log.journal().entry(uid).orElse(null);
        if (entry == null || entry.finished()) {
            return true;
        }
        try {
            stages.endInterrupted(entry, log.events(uid, entry.lastSeq()), "EventTooLarge",
                    "Kafka refused an event of the abnormal as too large (" + refused.getCause().getMessage() + ")");
            return true;
        } catch (EventSink.DeliveryException e) {
            LOG.warn("events not delivered uid={} node={}", uid, log.nodeName(), e);
            return false;
        }
    }

    private void run(AbnormalRequest request) throws InterruptedException, EventSink.DeliveryException {
        String uid = request.getUid();
        metrics.inFlight().incrementAndGet();
        try {
            stages.run(request, log.events(uid, 0));
        } catch (RuntimeException e) {
            // a defect must not make one abnormal a record that stops this node's agent for good
            LOG.error("abnormal failed on an agent defect uid={} node={}", uid, log.nodeName(), e);
            Journal.Entry entry = log.journal().entry(uid).orElse(null);
            if (entry != null && !entry.finished()) {
                stages.endInterrupted(entry, log.events(uid, entry.lastSeq()), "AgentError", "the agent failed (" + e + ")");
            }
        } finally {
            metrics.inFlight().decrementAndGet();
        }
    }
}
