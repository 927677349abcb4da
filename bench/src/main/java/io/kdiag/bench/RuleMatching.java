package io.kdiag.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

import io.fabric8.kubernetes.api.model.Event;

/**
 * The bridge's Kubernetes Event matching against 100 AbnormalSource rules on one thread: first-match only (the rule
 * scan), and the whole per-event work before the gate (match and build the request). Events: reasons drawn from
 * 200, so half match some rule (at a uniform position) and half scan all 100 and match none. Last, the cost of a
 * pathological pattern: {@code a*a*a*a*a*a*b}, which a backtracking engine (java.util.regex) searches for in time growing
 * with the 7th power of the length of a run of {@code a}s, over such 1,000- and 10,000-character messages; RE2 takes time
 * linear in the message. For contrast, java.util.regex on a 40-character one.
 */
final class RuleMatching {
    static final int RULES = 100;
    /** The pattern that makes a backtracking engine take exponential time, and the message length it is run over. */
    static final String PATHOLOGICAL = "a*a*a*a*a*a*b";
    static final int LONG_MESSAGE = 10_000;
    /** A message short enough for a backtracking engine to finish {@link #PATHOLOGICAL} on within seconds. */
    static final int BACKTRACKING_LENGTH = 40;

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

        rules.add("zz-pathological", "^Pathological$", PATHOLOGICAL);
        for (int length : new int[] {1_000, LONG_MESSAGE}) {
            List<Event> pathological = new ArrayList<>();
            for (int i = 0; i < 1024; i++) {
                pathological.add(BenchRules.event(i, "node-" + random.nextInt(5000), "Pathological", "a".repeat(length)));
            }
            loop(pathological, rules::firstMatch, warmupSeconds);
            double micros = 1e6 / loop(pathological, rules::firstMatch, seconds);
            report.add("4 bridge", "pathological pattern " + PATHOLOGICAL + " over a " + String.format("%,d", length)
                    + "-character message (RE2), " + (RULES + 1) + " rules, 1 thread", String.format("%,.1f µs per event", micros),
                    "<= 10,000 µs per event", micros <= 10_000);
        }
        // for contrast, a backtracking engine on a short message: its time grows with the 7th power of the length
        String shortMessage = "a".repeat(BACKTRACKING_LENGTH);
        java.util.regex.Pattern backtracking = java.util.regex.Pattern.compile(PATHOLOGICAL);
        long start = System.nanoTime();
        boolean found = backtracking.matcher(shortMessage).find();
        double millis = (System.nanoTime() - start) / 1e6;
        report.add("4 bridge", "the same pattern over a " + BACKTRACKING_LENGTH + "-character message with java.util.regex (backtracking)"
                + (found ? " [matched?]" : ""), String.format("%,.0f ms", millis), "", null);
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
