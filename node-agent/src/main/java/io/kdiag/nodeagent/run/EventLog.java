package io.kdiag.nodeagent.run;

import java.time.Clock;

/** Where each abnormal's events go, and the journal that numbers them: opens the events of one abnormal. */
public final class EventLog {
    private final String nodeName;
    private final EventSink sink;
    private final Journal journal;
    private final Clock clock;

    /** {@code clock}: the time of each event. */
    public EventLog(String nodeName, EventSink sink, Journal journal, Clock clock) {
        this.nodeName = nodeName;
        this.sink = sink;
        this.journal = journal;
        this.clock = clock;
    }

    /** The events of {@code uid}, numbered from {@code firstSeq}. */
    AbnormalEvents events(String uid, long firstSeq) {
        return new AbnormalEvents(uid, nodeName, firstSeq, sink, journal, clock);
    }

    /** The events of a parked abnormal going on: after those {@code parked} keeps the fold of. */
    AbnormalEvents events(Parking.Parked parked) {
        return new AbnormalEvents(parked.uid(), nodeName, parked.nextSeq(), parked.status(), sink, journal, clock);
    }

    Journal journal() {
        return journal;
    }

    String nodeName() {
        return nodeName;
    }
}
