package io.kdiag.statuswriter.budget;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.kdiag.common.recovery.RecoveryBudgets;
import io.kdiag.common.recovery.RecoveryBudgets.Budget;
import io.kdiag.schemas.avro.BudgetVerdict;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The arbiter's meters: {@code kdiag_recovery_budget_answers_total{verdict}} (Granted, Waiting, Exceeded),
 * {@code kdiag_recovery_budget_usage{budget}} (the most any count of the budget uses now: recoveries in its window, or
 * nodes in recovery) beside {@code kdiag_recovery_budget_limit{budget}}, {@code kdiag_recovery_budget_waiting} and
 * {@code kdiag_recovery_budget_requests_ignored_total}. Updated on the stream thread, read by the scrape.
 */
public final class BudgetMetrics {
    private final MeterRegistry registry;
    private final Map<String, AtomicInteger> usage = new ConcurrentHashMap<>();
    private final AtomicInteger waiting = new AtomicInteger();
    private final Counter ignored;

    /** Registers the meters of every budget of the file. */
    public BudgetMetrics(MeterRegistry registry, RecoveryBudgets budgets) {
        this.registry = registry;
        for (Budget budget : budgets.budgets()) {
            AtomicInteger used = new AtomicInteger();
            usage.put(budget.name(), used);
            Gauge.builder("kdiag.recovery.budget.usage", used, AtomicInteger::get).tag("budget", budget.name())
                    .description("What the budget's fullest count uses now: recoveries started in its window, or nodes in recovery")
                    .register(registry);
            Gauge.builder("kdiag.recovery.budget.limit", budget::limit).tag("budget", budget.name())
                    .description("The budget's limit: maxRecoveries or maxNodesInRecovery").register(registry);
        }
        Gauge.builder("kdiag.recovery.budget.waiting", waiting, AtomicInteger::get)
                .description("Recoveries waiting for room in a budget").register(registry);
        ignored = Counter.builder("kdiag.recovery.budget.requests.ignored").description("Budget requests that no agent sends")
                .register(registry);
        for (BudgetVerdict verdict : new BudgetVerdict[] {BudgetVerdict.Granted, BudgetVerdict.Waiting, BudgetVerdict.Exceeded}) {
            counter(verdict);
        }
    }

    void answered(BudgetVerdict verdict) {
        counter(verdict).increment();
    }

    void ignored() {
        ignored.increment();
    }

    void update(BudgetLedger ledger) {
        ledger.usage().forEach((budget, used) -> {
            AtomicInteger gauge = usage.get(budget);
            if (gauge != null) {
                gauge.set(used);
            }
        });
        waiting.set(ledger.waiting());
    }

    private Counter counter(BudgetVerdict verdict) {
        return Counter.builder("kdiag.recovery.budget.answers").tag("verdict", verdict.name())
                .description("Answers of the recovery budget arbiter").register(registry);
    }
}
