package io.kdiag.bench;

import java.lang.management.ManagementFactory;
import java.util.Locale;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * How many requests of each kind the embedded broker (in this JVM) has handled, from its own request metrics: what a
 * pipeline costs the broker per abnormal, counted rather than timed, so it compares across runs on a noisy machine.
 */
record BrokerRequests(long produce, long fetch) {
    /** The broker's totals now, over every version of each request. */
    static BrokerRequests now() {
        return new BrokerRequests(count("Produce"), count("Fetch"));
    }

    /** Requests per abnormal since {@code before}, e.g. {@code "produce 4.1, fetch 12.3"}. */
    String perAbnormalSince(BrokerRequests before, long abnormals) {
        double n = Math.max(1, abnormals);
        return String.format(Locale.ROOT, "produce %.1f, fetch %.1f", (produce - before.produce) / n, (fetch - before.fetch) / n);
    }

    private static long count(String request) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            long total = 0;
            for (ObjectName name : server.queryNames(
                    new ObjectName("kafka.network:type=RequestMetrics,name=RequestsPerSec,request=" + request + ",*"), null)) {
                total += ((Number) server.getAttribute(name, "Count")).longValue();
            }
            return total;
        } catch (JMException e) {
            throw new IllegalStateException("cannot read the broker's request metrics", e);
        }
    }
}
