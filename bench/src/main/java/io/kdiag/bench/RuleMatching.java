package io.kdiag.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

import io.fabric8.kubernetes.api.model.Event;

/**
 * The bridge's Kubernetes Event matching against 100 AbnormalSource rules on one thread: first-match only (the rule
 * scan), and the whole per-event work before the gate (match and build the request). Events: reasons drawn from
 * 200, so half match some rule (at a uniform position) and half scan all 100 and match none.
 */
final class RuleMatching {
    static final int RULES = 100;

    private RuleMatching() {
    }

    static void run(Report report, double warmupSeconds, double seconds) {
        BenchRules rules = new BenchRules(RULES);
        Random random = new Random(7);
        List<Event> mixed = new ArrayList<>();
        List<Event> unmatched = new ArrayList<>();
        for (int i = 0; i < 1024; i++) {
            mixed.add(BenchRules.event(random.nextInt(2 * RULES), "node-" + random.nextInt(5000)));
            unmatched.add(BenchRules.event(RULES + random.nextInt(RULES), "node-" + random.nextInt(5000)));
        }
        measure(report, "first match, mixed (half match)", mixed, rules::firstMatch, warmupSeconds, seconds);
        measure(report, "first match, none matches (all 100 scanned)", unmatched, rules::firstMatch, warmupSeconds, seconds);
        measure(report, "match + build request, mixed", mixed, rules::request, warmupSeconds, seconds);
    }

    private static void measure(Report report, String label, List<Event> events, Function<Event, String> match,
            double warmupSeconds, double seconds) {
        loop(events, match, warmupSeconds);
        double rate = loop(events, match, seconds);
        report.add("4 bridge", label + ", " + RULES + " rules, 1 thread", Report.rate(rate, "events"), ">= 20,000 events/s",
                rate >= 20_000);
    }

    /** Events/s over about {@code seconds}; the matched count is kept so the work cannot be optimised away. */
    private static double loop(List<Event> events, Function<Event, String> match, double seconds) {
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        long n = 0;
        long matched = 0;
        while (System.nanoTime() < end) {
            for (int i = 0; i < 256; i++) {
                if (match.apply(events.get((int) (n++ & 1023))) != null) {
                    matched++;
                }
            }
        }
        if (matched < 0) {
            throw new IllegalStateException();
        }
        return n / ((System.nanoTime() - start) / 1e9);
    }
}
