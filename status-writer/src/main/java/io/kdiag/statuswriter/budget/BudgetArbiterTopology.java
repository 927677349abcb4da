package io.kdiag.statuswriter.budget;

import io.kdiag.common.recovery.RecoveryBudgets;
import io.kdiag.schemas.Topic;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.RecoveryBudgetAnswer;
import io.kdiag.schemas.avro.RecoveryBudgetRequest;
import org.apache.kafka.streams.Topology;

/**
 * The recovery budget arbiter: {@code recovery-budget-requests} (one partition) → the ledger → {@code
 * recovery-budget-answers} (keyed by node). A sub-topology of its own beside the status fold, sharing nothing with it
 * but the application: its one task decides every request of the installation in the order written, which is all the
 * serialisation the budgets need (recoveries are rare: a few a minute at the very most).
 */
public final class BudgetArbiterTopology {
    /** Name of the store holding the ledger. */
    public static final String STORE_NAME = "recovery-budget-store";
    static final String SOURCE = "recovery-budget-requests";
    static final String ARBITER = "recovery-budget-arbiter";
    static final String ANSWER_SINK = "recovery-budget-answers";

    private BudgetArbiterTopology() {
    }

    /** Adds the arbiter of {@code budgets} to {@code topology}. */
    public static Topology addTo(Topology topology, Topics topics, RecoveryBudgets budgets, BudgetMetrics metrics) {
        Topic<String, RecoveryBudgetRequest> requests = topics.recoveryBudgetRequests();
        Topic<String, RecoveryBudgetAnswer> answers = topics.recoveryBudgetAnswers();
        topology.addSource(SOURCE, requests.keySerde().deserializer(), requests.valueSerde().deserializer(), requests.name());
        topology.addProcessor(ARBITER, BudgetArbiterProcessor.supplier(STORE_NAME, budgets, metrics), SOURCE);
        topology.addSink(ANSWER_SINK, answers.name(), answers.keySerde().serializer(), answers.valueSerde().serializer(), ARBITER);
        return topology;
    }
}
