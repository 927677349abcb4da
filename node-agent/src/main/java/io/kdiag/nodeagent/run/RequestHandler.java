package io.kdiag.nodeagent.run;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import io.kdiag.nodeagent.processors.Processors;
import io.kdiag.schemas.avro.AbnormalRequest;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides from the journal what becomes of an abnormal request: a new one runs, a finished one is skipped as a
 * duplicate, a parked one keeps waiting, and one whose earlier attempt had started work is ended rather than run twice.
 * It also ends the waits of parked abnormals: with their gate's answer ({@link #answer}), or at their deadline
 * ({@link #endExpired}).
 */
public final class RequestHandler {
    private static final Logger LOG = LoggerFactory.getLogger(RequestHandler.class);
    /** Longest uid, and name, an abnormal can have (Kubernetes names): CR uids are 36 characters. */
    static final int MAX_NAME_CHARS = 253;

    private final StageRunner stages;
    private final EventLog log;
    private final AgentMetrics metrics;
    private final Parking parking;
    private final Map<String, Gate> gates;

    /**
     * {@code log}: the journal that says what became of earlier requests, and where events go; {@code parking}: the
     * abnormals that wait, the same the stage runner parks them in; {@code gates}: what they may wait for.
     */
    public RequestHandler(StageRunner stages, EventLog log, AgentMetrics metrics, Parking parking, List<Gate> gates) {
        this.stages = stages;
        this.log = log;
        this.metrics = metrics;
        this.parking = parking;
        this.gates = gates.stream().collect(Collectors.toUnmodifiableMap(Gate::name, Function.identity()));
    }

    /**
     * At start: ends the abnormals a previous run left unfinished after they had started work, except those parked, which
     * wait on; forgets the wait of one that had ended (a crash between its end and the removal of its wait).
     */
    public void endUnfinished(String cause) throws InterruptedException, EventSink.DeliveryException {
        for (Parking.Parked parked : parking.all()) {
            if (log.journal().entry(parked.uid()).map(Journal.Entry::finished).orElse(true)) {
                release(parked.uid());
            }
        }
        for (Map.Entry<String, Journal.Entry> e : log.journal().unfinished().entrySet()) {
            // one that stopped right after Accepted did no work: its record is read again and it runs from the start
            if (!e.getValue().onlyAccepted() && parking.get(e.getKey()).isEmpty()) {
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
            } else if (parking.get(uid).isPresent()) {
                LOG.info("abnormal skipped uid={} node={} reason={}", uid, log.nodeName(), "Parked");
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

    /**
     * Ends the wait of {@code uid} as {@code answer} says, if it is parked at {@code gate} by the event {@code waitSeq}; an
     * answer to anything else (an abnormal that ended, an earlier wait) changes nothing.
     *
     * @return {@code false} when the answer's events could not be delivered: it is still parked; hand the answer again later
     */
    public boolean answer(String uid, String gate, long waitSeq, Function<Parking.Parked, Gate.Answer> answer) throws InterruptedException {
        Parking.Parked parked = parking.get(uid).orElse(null);
        if (parked == null || !parked.gate().equals(gate) || parked.waitSeq() != waitSeq) {
            LOG.info("answer ignored uid={} node={} gate={} seq={} reason={}", uid, log.nodeName(), gate, waitSeq,
                    parked == null ? "NotParked" : "OtherWait");
            return true;
        }
        return resume(parked, answer.apply(parked));
    }

    /**
     * Ends the waits at the budget gate that the arbiter answered since the last call ({@link BudgetWaits}); an answer for
     * an abnormal not waiting there (any more) changes nothing; one whose events could not be delivered leaves the wait to
     * its deadline.
     */
    public void answerBudgets() throws InterruptedException {
        Gate gate = gates.get(BudgetWaits.GATE);
        if (!(gate instanceof BudgetWaits waits)) {
            return;
        }
        for (RecoveryBudgetGate.Late late : waits.lateAnswers()) {
            Parking.Parked parked = parking.get(late.uid()).orElse(null);
            Gate.Answer answer = waits.answered(late);
            if (parked == null || answer == null || !parked.subject().equals(Processors.name(late.recoverer()))) {
                continue; // not parked for it, or still waiting
            }
            // not delivered: the wait stays, and its deadline ends it
            answer(late.uid(), BudgetWaits.GATE, parked.waitSeq(), p -> answer);
        }
    }

    /** Ends the waits whose deadline passed, each with its gate's answer; one that cannot be delivered is tried again next time. */
    public void endExpired(Instant now) throws InterruptedException {
        for (Parking.Parked parked : parking.due(now)) {
            Gate gate = gates.get(parked.gate());
            if (gate == null) {
                // parked by a version of the agent that had this gate: nothing here can answer it
                resume(parked, Gate.Answer.refuse(null, "UnknownGate", "the agent has no gate " + parked.gate() + " to end the wait"));
            } else {
                resume(parked, gate.expired(parked));
            }
        }
    }

    private boolean resume(Parking.Parked parked, Gate.Answer answer) throws InterruptedException {
        metrics.inFlight().incrementAndGet();
        try {
            stages.resume(parked, answer, log.events(parked));
            return true;
        } catch (EventSink.DeliveryException e) {
            LOG.warn("events not delivered uid={} node={}", parked.uid(), log.nodeName(), e);
            return false;
        } catch (RuntimeException e) {
            LOG.error("parked abnormal failed on an agent defect uid={} node={}", parked.uid(), log.nodeName(), e);
            release(parked.uid());
            Journal.Entry entry = log.journal().entry(parked.uid()).orElse(null);
            if (entry != null && !entry.finished()) {
                try {
                    stages.endInterrupted(entry, log.events(parked.uid(), entry.lastSeq()), "AgentError", "the agent failed (" + e + ")");
                } catch (EventSink.DeliveryException undelivered) {
                    // ended at the next start, as any unfinished abnormal
                    LOG.warn("events not delivered uid={} node={}", parked.uid(), log.nodeName(), undelivered);
                }
            }
            return true;
        } finally {
            metrics.inFlight().decrementAndGet();
        }
    }

    private void release(String uid) {
        try {
            parking.release(uid);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot release parked abnormal " + uid, e);
        }
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
