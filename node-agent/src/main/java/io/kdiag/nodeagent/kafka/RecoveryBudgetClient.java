package io.kdiag.nodeagent.kafka;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.kdiag.common.recovery.RecoveryBudgets;
import io.kdiag.nodeagent.run.RecoveryBudgetGate;
import io.kdiag.schemas.SendAndWait;
import io.kdiag.schemas.Topic;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.BudgetVerdict;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.RecoveryBudgetAction;
import io.kdiag.schemas.avro.RecoveryBudgetAnswer;
import io.kdiag.schemas.avro.RecoveryBudgetRequest;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's side of the recovery budgets: sends {@code Acquire} and {@code Release} requests to the arbiter and
 * follows its node's partition of the answers (from the end it had at start, without a group), handing each answer
 * for this node to the request waiting for it. Only the arbiter's principal may write the answers topic (ACL), so an
 * agent cannot answer itself. Asked only for recoverers a budget covers: without a budget file the agent runs none of
 * this.
 */
public final class RecoveryBudgetClient implements RecoveryBudgetGate, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RecoveryBudgetClient.class);
    private static final Duration PARTITIONS_WAIT = Duration.ofSeconds(60);
    /** More late answers than abnormals a node could have parked; past it the oldest are dropped (their waits time out). */
    private static final int MAX_LATE = 10_000;

    private final RecoveryBudgets budgets;
    private final String nodeName;
    private final Duration timeout;
    private final Topic<String, RecoveryBudgetRequest> requests;
    private final KafkaProducer<String, RecoveryBudgetRequest> producer;
    private final Deserializer<RecoveryBudgetAnswer> answers;
    private final Map<String, CompletableFuture<RecoveryBudgetAnswer>> waiting = new ConcurrentHashMap<>();
    /** Answers nobody waited for when they came, for the abnormals parked to wait for them; bounded. */
    private final BlockingQueue<Late> late = new LinkedBlockingQueue<>(MAX_LATE);
    private final TopicFollower follower;

    private RecoveryBudgetClient(RecoveryBudgets budgets, String nodeName, Duration timeout, Topics topics,
            KafkaProducer<String, RecoveryBudgetRequest> producer, KafkaConsumer<String, byte[]> consumer) {
        this.budgets = budgets;
        this.nodeName = nodeName;
        this.timeout = timeout;
        this.requests = topics.recoveryBudgetRequests();
        this.producer = producer;
        this.answers = topics.recoveryBudgetAnswers().valueSerde().deserializer();
        // a poll that fails meanwhile lets a waiting acquire run out of time and fail its recovery (deny by default)
        this.follower = new TopicFollower(consumer, "recovery-budget-answers", nodeName, records -> records.forEach(this::hand));
    }

    /**
     * Follows this node's partition of the answers from its current end, then returns the client.
     *
     * @param timeout how long {@link #acquire} waits for an answer
     * @throws IllegalStateException if the answers topic does not exist
     */
    public static RecoveryBudgetClient start(Map<String, Object> kafka, String nodeName, Topics topics, RecoveryBudgets budgets,
            Duration timeout) {
        Map<String, Object> consumerProps = new HashMap<>(kafka);
        consumerProps.remove(ConsumerConfig.GROUP_ID_CONFIG);
        consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumerProps.put(ConsumerConfig.CLIENT_ID_CONFIG, "kdiag-recovery-budget-answers-" + nodeName);
        // an answer of a transaction the arbiter aborts (it crashed) is no answer: the arbiter decides that request again
        consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(consumerProps, new StringDeserializer(), new ByteArrayDeserializer());
        KafkaProducer<String, RecoveryBudgetRequest> producer = null;
        try {
            String name = topics.recoveryBudgetAnswers().name();
            List<PartitionInfo> partitions = consumer.partitionsFor(name, PARTITIONS_WAIT);
            if (partitions.isEmpty()) {
                throw new IllegalStateException("topic " + name + " does not exist");
            }
            TopicPartition mine = new TopicPartition(name, Topics.partitionFor(nodeName, partitions.size()));
            consumer.assign(List.of(mine));
            consumer.seekToEnd(List.of(mine));
            // resolved now, so every answer to a request sent from here on is read
            consumer.position(mine, PARTITIONS_WAIT);
            Map<String, Object> producerProps = new HashMap<>(kafka);
            producerProps.put(ProducerConfig.CLIENT_ID_CONFIG, "kdiag-recovery-budget-requests-" + nodeName);
            producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
            producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            producer = new KafkaProducer<>(producerProps, topics.recoveryBudgetRequests().keySerde().serializer(),
                    topics.recoveryBudgetRequests().valueSerde().serializer());
            RecoveryBudgetClient client = new RecoveryBudgetClient(budgets, nodeName, timeout, topics, producer, consumer);
            client.follower.start();
            LOG.info("recovery budgets followed node={} budgets={} partition={}", nodeName,
                    budgets.budgets().stream().map(RecoveryBudgets.Budget::name).toList(), mine);
            return client;
        } catch (RuntimeException e) {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
            if (producer != null) {
                producer.close(Duration.ofSeconds(5));
            }
            throw e;
        }
    }

    @Override
    public boolean covers(String namespace, NamespacedName recoverer) {
        return !budgets.covering(namespace, recoverer.getNamespace(), recoverer.getName()).isEmpty();
    }

    @Override
    public Answer acquire(String uid, String namespace, NamespacedName recoverer) throws InterruptedException {
        String id = id(uid, recoverer);
        CompletableFuture<RecoveryBudgetAnswer> answer = new CompletableFuture<>();
        waiting.put(id, answer);
        try {
            SendAndWait.send(producer, request(RecoveryBudgetAction.Acquire, uid, namespace, recoverer), timeout);
            RecoveryBudgetAnswer decided = answer.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return new Answer(decided.getVerdict(), decided.getBudget(), decided.getMessage());
        } catch (TimeoutException e) {
            return new Answer(BudgetVerdict.Unknown, null, "the budget arbiter (the status writer) did not answer within "
                    + RecoveryBudgets.format(timeout) + "; is it running with kdiag.recovery-budgets-file?");
        } catch (ExecutionException e) {
            return new Answer(BudgetVerdict.Unknown, null, "the budget request could not be sent: " + e.getCause().getMessage());
        } finally {
            waiting.remove(id, answer);
        }
    }

    @Override
    public void ask(String uid, String namespace, NamespacedName recoverer) {
        producer.send(request(RecoveryBudgetAction.Acquire, uid, namespace, recoverer), (metadata, error) -> {
            if (error != null) {
                // the wait ends at its deadline
                LOG.warn("budget request not sent uid={} node={} error={}", uid, nodeName, error.toString());
            }
        });
    }

    @Override
    public List<Late> lateAnswers() {
        List<Late> answers = new ArrayList<>();
        late.drainTo(answers);
        return answers;
    }

    @Override
    public Duration maxWait() {
        return budgets.maxWait();
    }

    @Override
    public Duration answerTimeout() {
        return timeout;
    }

    @Override
    public void release(String uid, String namespace, NamespacedName recoverer) {
        producer.send(request(RecoveryBudgetAction.Release, uid, namespace, recoverer), (metadata, error) -> {
            if (error != null) {
                // the arbiter frees the slot after releaseAfter anyway
                LOG.warn("budget release not sent uid={} node={} error={}", uid, nodeName, error.toString());
            }
        });
    }

    private ProducerRecord<String, RecoveryBudgetRequest> request(RecoveryBudgetAction action, String uid, String namespace,
            NamespacedName recoverer) {
        return new ProducerRecord<>(requests.name(), nodeName,
                new RecoveryBudgetRequest(action, uid, nodeName, namespace, recoverer, Instant.now()));
    }

    private static String id(String uid, NamespacedName recoverer) {
        return uid + " " + recoverer.getNamespace() + "/" + recoverer.getName();
    }

    private void hand(ConsumerRecord<String, byte[]> record) {
        if (!nodeName.equals(record.key()) || record.value() == null) {
            return; // another node's answer on a shared partition
        }
        RecoveryBudgetAnswer answer;
        try {
            answer = answers.deserialize(record.topic(), record.value());
        } catch (RuntimeException e) {
            LOG.warn("recovery budget answer unreadable node={} offset={} error={}", nodeName, record.offset(), e.toString());
            return;
        }
        // taken out, so that a second answer to the same request (a Granted after a Waiting) goes to the late ones
        CompletableFuture<RecoveryBudgetAnswer> waiter = waiting.remove(id(answer.getUid(), answer.getRecoverer()));
        if (waiter != null) {
            waiter.complete(answer);
            return;
        }
        Late kept = new Late(answer.getUid(), answer.getRecoverer(), new Answer(answer.getVerdict(), answer.getBudget(), answer.getMessage()));
        while (!late.offer(kept)) {
            Late dropped = late.poll();
            LOG.warn("late budget answer dropped uid={} node={}", dropped == null ? null : dropped.uid(), nodeName);
        }
    }

    /** Stops following the answers and closes the producer; an acquire still waiting runs out of time. */
    @Override
    public void close() {
        follower.close();
        producer.close(Duration.ofSeconds(5));
    }
}
