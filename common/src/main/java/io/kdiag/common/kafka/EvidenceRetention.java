package io.kdiag.common.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

import io.kdiag.schemas.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;

/**
 * Whether the evidence topic keeps each value as long as the history keeps the events that refer to it. The rule: the
 * evidence topic's {@code cleanup.policy} is {@code delete} alone (compaction keeps one chunk per value), its
 * {@code retention.ms} is unlimited ({@code -1}) or at least the events topic's, and its {@code retention.bytes} is
 * unlimited (a size limit deletes evidence early whatever the time says). Topics created by kdiag follow it; a topic
 * created or changed by hand may not.
 */
public final class EvidenceRetention {
    private EvidenceRetention() {
    }

    /**
     * What a check found.
     *
     * @param problems what breaks the rule; empty when nothing does, or when the configurations could not be read
     * @param unreadable why the configurations could not be read (no {@code DescribeConfigs} right, Kafka not
     *        answering); null when they were
     */
    public record Check(List<String> problems, String unreadable) {
        /** The number of problems, or -1 when the configurations could not be read: what the metric says. */
        public int count() {
            return unreadable != null ? -1 : problems.size();
        }
    }

    /**
     * What breaks the rule, from the two topics' configurations (each as {@code name → value}); empty when nothing does.
     * A setting missing from a map is Kafka's default for it.
     */
    public static List<String> problems(String events, Map<String, String> eventsConfig, String evidence, Map<String, String> evidenceConfig) {
        List<String> problems = new ArrayList<>();
        String cleanup = evidenceConfig.getOrDefault(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE);
        if (!cleanup.strip().equals(TopicConfig.CLEANUP_POLICY_DELETE)) {
            problems.add(evidence + " has cleanup.policy=" + cleanup + ", not delete: compaction keeps one chunk of each value");
        }
        long eventsMs = retentionMs(eventsConfig);
        long evidenceMs = retentionMs(evidenceConfig);
        if (evidenceMs >= 0 && (eventsMs < 0 || evidenceMs < eventsMs)) {
            problems.add(evidence + " has retention.ms=" + evidenceMs + ", shorter than the " + (eventsMs < 0 ? "unlimited (-1)" : eventsMs)
                    + " of " + events + ": events would refer to evidence that is gone");
        }
        long evidenceBytes = Long.parseLong(evidenceConfig.getOrDefault(TopicConfig.RETENTION_BYTES_CONFIG, "-1").strip());
        if (evidenceBytes >= 0) {
            problems.add(evidence + " has retention.bytes=" + evidenceBytes + ": a size limit deletes evidence before retention.ms does");
        }
        return List.copyOf(problems);
    }

    /** Reads both topics' configurations and applies {@link #problems}. */
    public static Check check(Map<String, Object> kafka, Topics topics, Duration timeout) {
        String events = topics.diagnosisEvents().name();
        String evidence = topics.evidence().name();
        ConfigResource eventsTopic = new ConfigResource(ConfigResource.Type.TOPIC, events);
        ConfigResource evidenceTopic = new ConfigResource(ConfigResource.Type.TOPIC, evidence);
        try (Admin admin = Admin.create(kafka)) {
            Map<ConfigResource, Config> configs = admin.describeConfigs(List.of(eventsTopic, evidenceTopic)).all()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return new Check(problems(events, values(configs.get(eventsTopic)), evidence, values(configs.get(evidenceTopic))), null);
        } catch (ExecutionException e) {
            return new Check(List.of(), String.valueOf(e.getCause().getMessage()));
        } catch (TimeoutException e) {
            return new Check(List.of(), "Kafka did not answer within " + timeout.toSeconds() + " s");
        } catch (KafkaException e) {
            return new Check(List.of(), String.valueOf(e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Check(List.of(), "interrupted");
        }
    }

    private static long retentionMs(Map<String, String> config) {
        // Kafka's default: 7 days
        return Long.parseLong(config.getOrDefault(TopicConfig.RETENTION_MS_CONFIG, "604800000").strip());
    }

    private static Map<String, String> values(Config config) {
        return config.entries().stream().filter(e -> e.value() != null).collect(Collectors.toMap(ConfigEntry::name, ConfigEntry::value));
    }
}
