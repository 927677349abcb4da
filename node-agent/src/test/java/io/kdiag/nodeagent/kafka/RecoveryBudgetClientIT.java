package io.kdiag.nodeagent.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.common.recovery.RecoveryBudgets;
import io.kdiag.nodeagent.run.RecoveryBudgetGate;
import io.kdiag.schemas.Topic;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.BudgetVerdict;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.RecoveryBudgetAnswer;
import io.kdiag.schemas.avro.RecoveryBudgetRequest;
import io.kdiag.testkit.TestKafka;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The agent's side of the recovery budgets against a broker, the test standing in for the arbiter. */
class RecoveryBudgetClientIT {
    private static final Topics TOPICS = new Topics("budget-client.");
    private static final String NODE = "node-a";
    private static final NamespacedName RECOVERER = new NamespacedName("kube-diagnoser", "signal-recoverer");
    private static final RecoveryBudgets BUDGETS = RecoveryBudgets.parse("""
            budgets:
            - name: signals
              recoverers: [kube-diagnoser/signal-recoverer]
              maxRecoveries: 5
              window: 10m
            """);
    private static TestKafka kafka;
    private static Map<String, Object> settings;

    @BeforeAll
    static void startKafka() {
        kafka = TestKafka.start();
        settings = Map.of("bootstrap.servers", kafka.bootstrapServers());
        TopicAdmin.ensureTopics(settings, TOPICS, 1, (short) 1);
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    @Test
    void shouldSendAnAcquireAtOnceWhateverTheLinger() throws Exception {
        Map<String, Object> lingering = new HashMap<>(settings);
        // far longer than the acquire may wait: the arbiter sees the request only if the client sends it at once
        lingering.put(ProducerConfig.LINGER_MS_CONFIG, 600_000);
        try (RecoveryBudgetClient client = RecoveryBudgetClient.start(lingering, NODE, TOPICS, BUDGETS, Duration.ofSeconds(60));
             KafkaConsumer<String, RecoveryBudgetRequest> arbiter = requests();
             KafkaProducer<String, RecoveryBudgetAnswer> answers = answers()) {
            CompletableFuture<RecoveryBudgetGate.Answer> acquired = CompletableFuture.supplyAsync(() -> {
                try {
                    return client.acquire("uid-1", "default", RECOVERER);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });

            List<RecoveryBudgetRequest> asked = new ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                arbiter.poll(Duration.ofMillis(200)).forEach(r -> asked.add(r.value()));
                return !asked.isEmpty();
            });
            assertThat(asked.get(0).getUid()).isEqualTo("uid-1");
            answers.send(new ProducerRecord<>(TOPICS.recoveryBudgetAnswers().name(), NODE,
                    new RecoveryBudgetAnswer("uid-1", NODE, RECOVERER, BudgetVerdict.Granted, "signals", null, Instant.now())));

            assertThat(acquired.get(30, TimeUnit.SECONDS).verdict()).isEqualTo(BudgetVerdict.Granted);
        }
    }

    private static KafkaConsumer<String, RecoveryBudgetRequest> requests() {
        Topic<String, RecoveryBudgetRequest> topic = TOPICS.recoveryBudgetRequests();
        Map<String, Object> props = new HashMap<>(settings);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "arbiter-stand-in");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        KafkaConsumer<String, RecoveryBudgetRequest> consumer = new KafkaConsumer<>(props, topic.keySerde().deserializer(),
                topic.valueSerde().deserializer());
        consumer.subscribe(List.of(topic.name()));
        return consumer;
    }

    private static KafkaProducer<String, RecoveryBudgetAnswer> answers() {
        Topic<String, RecoveryBudgetAnswer> topic = TOPICS.recoveryBudgetAnswers();
        return new KafkaProducer<>(settings, topic.keySerde().serializer(), topic.valueSerde().serializer());
    }
}
