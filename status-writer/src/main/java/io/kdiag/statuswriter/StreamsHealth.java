package io.kdiag.statuswriter;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

import io.kdiag.common.health.Health;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.ThreadMetadata;

/**
 * The status writer's health, read from its Kafka Streams applications (the fold, and the budget arbiter when there is
 * one). Alive: no application is failed or stopped on its own, no stream thread is dead, and every stream thread keeps
 * polling (its loop polls even when there is nothing to fold, so a thread that stopped polling is stuck: blocked in the
 * fold, or in a write that never returns). Ready: all running, and at most {@link #READY_LAG} records behind on any
 * input partition, so that its statuses and query answers are current. A problem of an application other than the
 * fold is named after it.
 */
final class StreamsHealth {
    /** The name of the fold's application, which its problems are not prefixed with. */
    static final String FOLD = "fold";
    /** Events the fold may be behind and still serve. */
    static final long READY_LAG = 1_000;
    private static final String THREAD_METRICS = "stream-thread-metrics";
    private static final String FETCH_METRICS = "consumer-fetch-manager-metrics";

    private final Map<String, KafkaStreams> applications;
    private final long stallNanos;
    private final LongSupplier nanoTime;
    /** Per stream thread: its poll count at the last check that saw it change, and when. */
    private final Map<String, long[]> polls = new HashMap<>();
    private volatile boolean closing;

    /** @param applications each application by its name, {@link #FOLD} for the fold */
    StreamsHealth(Map<String, KafkaStreams> applications, Duration stallTimeout, LongSupplier nanoTime) {
        this.applications = new LinkedHashMap<>(applications);
        this.stallNanos = stallTimeout.toNanos();
        this.nanoTime = nanoTime;
    }

    /** The checks, as the probes answer them. */
    Health health() {
        return new Health(List.of(this::notAlive), List.of(this::notReady));
    }

    /** From now on the application stops because it was told to: that is no failure. */
    void closing() {
        closing = true;
    }

    private Optional<String> notAlive() {
        List<String> problems = new ArrayList<>();
        applications.forEach((name, streams) -> notAlive(streams).ifPresent(problem -> problems.add(named(name, problem))));
        return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
    }

    private Optional<String> notAlive(KafkaStreams streams) {
        KafkaStreams.State state = streams.state();
        if (state == KafkaStreams.State.ERROR || state == KafkaStreams.State.PENDING_ERROR
                || !closing && (state == KafkaStreams.State.NOT_RUNNING || state == KafkaStreams.State.PENDING_SHUTDOWN)) {
            return Optional.of("Kafka Streams is " + state);
        }
        List<String> problems = new ArrayList<>();
        for (ThreadMetadata thread : streams.metadataForLocalThreads()) {
            if ("DEAD".equals(thread.threadState())) {
                problems.add("stream thread " + thread.threadName() + " is dead");
            }
        }
        problems.addAll(stalledThreads(streams));
        return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
    }

    private static String named(String application, String problem) {
        return FOLD.equals(application) ? problem : application + ": " + problem;
    }

    /** The stream threads whose poll count did not move for longer than the stall timeout. */
    private synchronized List<String> stalledThreads(KafkaStreams streams) {
        long now = nanoTime.getAsLong();
        List<String> stalled = new ArrayList<>();
        for (Map.Entry<MetricName, ? extends Metric> metric : streams.metrics().entrySet()) {
            MetricName name = metric.getKey();
            if (!THREAD_METRICS.equals(name.group()) || !"poll-total".equals(name.name())) {
                continue;
            }
            String thread = name.tags().get("thread-id");
            long count = ((Number) metric.getValue().metricValue()).longValue();
            long[] last = polls.get(thread);
            if (last == null || last[0] != count) {
                polls.put(thread, new long[] {count, now});
            } else if (now - last[1] > stallNanos) {
                stalled.add("stream thread " + thread + " has not polled for " + Duration.ofNanos(now - last[1]).toSeconds()
                        + " s (stall timeout " + Duration.ofNanos(stallNanos).toSeconds() + " s)");
            }
        }
        return stalled;
    }

    private Optional<String> notReady() {
        List<String> problems = new ArrayList<>();
        applications.forEach((name, streams) -> notReady(streams).ifPresent(problem -> problems.add(named(name, problem))));
        return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
    }

    private static Optional<String> notReady(KafkaStreams streams) {
        KafkaStreams.State state = streams.state();
        if (state != KafkaStreams.State.RUNNING) {
            return Optional.of("Kafka Streams is " + state);
        }
        double lag = 0;
        for (Map.Entry<MetricName, ? extends Metric> metric : streams.metrics().entrySet()) {
            MetricName name = metric.getKey();
            String client = name.tags().getOrDefault("client-id", "");
            // records-lag is each partition's lag at its last fetch; records-lag-max would be the largest over the
            // last minute's samples, and keep a writer that caught up unready for up to a minute
            if (FETCH_METRICS.equals(name.group()) && "records-lag".equals(name.name()) && client.endsWith("-consumer")
                    && !client.endsWith("-restore-consumer") && metric.getValue().metricValue() instanceof Number value
                    && !Double.isNaN(value.doubleValue())) {
                lag = Math.max(lag, value.doubleValue());
            }
        }
        return lag > READY_LAG ? Optional.of("the fold is " + (long) lag + " events behind (ready at " + READY_LAG + ")") : Optional.empty();
    }
}
