package io.kdiag.bench;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;

/**
 * Waits until every partition of new topics has a leader. Producing at once after creating a topic meets
 * NOT_LEADER_OR_FOLLOWER, and the idempotent producer's retries of those first batches can then stall on
 * OUT_OF_ORDER_SEQUENCE_NUMBER for good on a loaded machine.
 */
final class Leaders {
    private Leaders() {
    }

    static void await(Map<String, Object> kafka, List<String> topics) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        try (Admin admin = Admin.create(kafka)) {
            while (System.nanoTime() < deadline) {
                Map<String, TopicDescription> described;
                try {
                    described = admin.describeTopics(topics).allTopicNames().get();
                } catch (ExecutionException e) {
                    // not known to the broker's metadata yet
                    Thread.sleep(100);
                    continue;
                }
                if (described.values().stream().allMatch(d -> d.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty()))) {
                    Thread.sleep(500); // the broker's own metadata cache follows the controller's shortly after
                    return;
                }
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("no leader for every partition of " + topics + " within 60 s");
    }
}
