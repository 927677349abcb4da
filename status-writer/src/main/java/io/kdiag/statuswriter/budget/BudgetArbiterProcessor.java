package io.kdiag.statuswriter.budget;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import io.kdiag.common.recovery.RecoveryBudgets;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.RecoveryBudgetAction;
import io.kdiag.schemas.avro.RecoveryBudgetAnswer;
import io.kdiag.schemas.avro.RecoveryBudgetRequest;
import io.kdiag.statuswriter.budget.BudgetLedger.Answer;
import io.kdiag.statuswriter.budget.BudgetLedger.Request;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides each budget request against the {@link BudgetLedger} and forwards the answers keyed by the asking node. The
 * ledger is one entry of a changelogged store, written in the same exactly-once transaction as the answers it led to:
 * a restarted arbiter neither forgets a grant nor answers a request twice differently. A wall-clock punctuation every
 * second lets time pass (windows slide, waiters are granted or refused), answering in the same way.
 */
final class BudgetArbiterProcessor implements Processor<String, RecoveryBudgetRequest, String, RecoveryBudgetAnswer> {
    private static final Logger LOG = LoggerFactory.getLogger(BudgetArbiterProcessor.class);
    /** The ledger's key in its store: the arbiter has one ledger. */
    static final String LEDGER_KEY = "ledger";
    /** Longest name or uid a request may carry; longer ones are no request an agent sends. */
    private static final int MAX_FIELD = 253;
    private static final Duration TICK = Duration.ofSeconds(1);

    private final String storeName;
    private final RecoveryBudgets budgets;
    private final BudgetMetrics metrics;
    private ProcessorContext<String, RecoveryBudgetAnswer> context;
    private KeyValueStore<String, byte[]> store;
    private BudgetLedger ledger;

    private BudgetArbiterProcessor(String storeName, RecoveryBudgets budgets, BudgetMetrics metrics) {
        this.storeName = storeName;
        this.budgets = budgets;
        this.metrics = metrics;
    }

    /** The supplier, carrying the ledger's store. */
    static ProcessorSupplier<String, RecoveryBudgetRequest, String, RecoveryBudgetAnswer> supplier(String storeName, RecoveryBudgets budgets,
            BudgetMetrics metrics) {
        return new ProcessorSupplier<>() {
            @Override
            public Processor<String, RecoveryBudgetRequest, String, RecoveryBudgetAnswer> get() {
                return new BudgetArbiterProcessor(storeName, budgets, metrics);
            }

            @Override
            public Set<StoreBuilder<?>> stores() {
                // not cached: every change must reach the changelog in the transaction of the answer it led to
                return Set.of(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(storeName), Serdes.String(), Serdes.ByteArray()));
            }
        };
    }

    @Override
    public void init(ProcessorContext<String, RecoveryBudgetAnswer> context) {
        this.context = context;
        this.store = context.getStateStore(storeName);
        byte[] kept = store.get(LEDGER_KEY);
        BudgetLedger restored;
        try {
            restored = kept == null ? new BudgetLedger(budgets) : BudgetLedger.decode(kept, budgets);
        } catch (IllegalArgumentException e) {
            // deny by default would stop every recovery for good; an empty ledger forgets at most one window's grants
            LOG.error("budget ledger unreadable, starting empty error={}", e.getMessage());
            restored = new BudgetLedger(budgets);
        }
        ledger = restored;
        metrics.update(ledger);
        context.schedule(TICK, PunctuationType.WALL_CLOCK_TIME, this::tick);
    }

    @Override
    public void process(Record<String, RecoveryBudgetRequest> record) {
        RecoveryBudgetRequest value = record.value();
        String invalid = invalid(value);
        if (invalid != null) {
            LOG.warn("budget request ignored key={} reason={}", record.key(), invalid);
            metrics.ignored();
            return;
        }
        NamespacedName recoverer = value.getRecoverer();
        Request request = new Request(value.getUid(), value.getNode(), value.getNamespace(), recoverer.getNamespace(), recoverer.getName());
        long now = context.currentSystemTimeMs();
        List<Answer> answers = switch (value.getAction()) {
            case Acquire -> ledger.acquire(request, now);
            case Release -> ledger.release(request, now);
            default -> throw new IllegalStateException("unreachable: " + value.getAction());
        };
        if (value.getAction() == RecoveryBudgetAction.Release) {
            LOG.info("budget released uid={} node={} recoverer={}/{}", request.uid(), request.node(), request.recovererNamespace(),
                    request.recovererName());
        }
        save(answers, now);
    }

    private void tick(long now) {
        if (ledger.idle()) {
            return;
        }
        List<Answer> answers = ledger.tick(now);
        if (answers.isEmpty()) {
            // only time passed: what it dropped (slid windows, slots past releaseAfter) the first tick after a restore
            // drops again, so the ledger is not written to its changelog every second while it holds anything
            metrics.update(ledger);
        } else {
            save(answers, now);
        }
    }

    /** Keeps the ledger and forwards the answers, in the same transaction. */
    private void save(List<Answer> answers, long now) {
        store.put(LEDGER_KEY, ledger.encode());
        for (Answer answer : answers) {
            Request request = answer.request();
            RecoveryBudgetAnswer out = RecoveryBudgetAnswer.newBuilder()
                    .setUid(request.uid())
                    .setNode(request.node())
                    .setRecoverer(new NamespacedName(request.recovererNamespace(), request.recovererName()))
                    .setVerdict(answer.verdict())
                    .setBudget(answer.budget())
                    .setMessage(answer.message())
                    .setDecidedAt(Instant.ofEpochMilli(now))
                    .build();
            context.forward(new Record<>(request.node(), out, now));
            metrics.answered(answer.verdict());
            LOG.info("budget answered uid={} node={} recoverer={}/{} verdict={} budget={} message={}", request.uid(), request.node(),
                    request.recovererNamespace(), request.recovererName(), answer.verdict(), answer.budget(), answer.message());
        }
        metrics.update(ledger);
    }

    /** Why a request is no request an agent sends, or {@code null}. */
    private static String invalid(RecoveryBudgetRequest request) {
        if (request == null) {
            return "a tombstone";
        }
        if (request.getAction() != RecoveryBudgetAction.Acquire
                && request.getAction() != RecoveryBudgetAction.Release) {
            return "action " + request.getAction() + " is not Acquire or Release";
        }
        NamespacedName recoverer = request.getRecoverer();
        for (String field : List.of(request.getUid(), request.getNode(), request.getNamespace(), recoverer.getNamespace(), recoverer.getName())) {
            if (field.isBlank() || field.length() > MAX_FIELD) {
                return "a uid, node, namespace or recoverer that is empty or longer than " + MAX_FIELD + " characters";
            }
        }
        return null;
    }
}
