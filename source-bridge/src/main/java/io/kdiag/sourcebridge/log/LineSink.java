package io.kdiag.sourcebridge.log;

import java.util.List;

/** Where followers hand the lines they read; it returns once every abnormal they start is committed. */
interface LineSink {
    /**
     * Matches and forwards a batch of lines of one monitor.
     *
     * @throws Exception if they could not be forwarded; the follower then keeps its checkpoint where it was
     */
    void accept(MonitorConfig monitor, List<LogLine> lines) throws Exception;
}
