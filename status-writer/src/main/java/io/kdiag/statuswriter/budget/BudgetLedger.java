package io.kdiag.statuswriter.budget;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import io.kdiag.common.recovery.RecoveryBudgets;
import io.kdiag.common.recovery.RecoveryBudgets.Budget;
import io.kdiag.common.recovery.RecoveryBudgets.OnExceeded;
import io.kdiag.schemas.avro.BudgetVerdict;

/**
 * What the budgets have used, and the decisions on it: the start times of recent recoveries per windowed count, the
 * recoveries granted and not yet given back (which node holds which nodes-at-once counts), and the recoveries waiting
 * for room, first come first served. Pure: the arbiter's processor keeps it in its store ({@link #encode}) and gives
 * it the time. Not thread-safe.
 *
 * <p>A request is granted when every budget covering it has room, and then counts against each. When one has none,
 * the first such budget (in the file's order) that fails makes it {@code Exceeded}; when all of them wait, it waits.
 * Asking again for a recovery already granted or waiting changes nothing (an agent's retry is no second recovery).
 */
final class BudgetLedger {
    /** Most recoveries waiting at once; past it a recovery over a waiting budget fails, so the ledger stays bounded. */
    static final int MAX_WAITING = 10_000;
    private static final int FORMAT = 1;

    /** A recovery that asked: its abnormal, node and recoverer. */
    record Request(String uid, String node, String namespace, String recovererNamespace, String recovererName) {
        String id() {
            return uid + " " + recovererNamespace + "/" + recovererName;
        }
    }

    /** A decision for the agent of {@code request.node()}; {@code budget} names the budget that limited it, if one did. */
    record Answer(Request request, BudgetVerdict verdict, String budget, String message) {
    }

    private record Holder(Request request, long grantedAt, List<String> atOnceKeys) {
    }

    private record Waiter(Request request, long since) {
    }

    /** What a budget decides for one request now. */
    private record Decision(BudgetVerdict verdict, Budget budget, String message) {
    }

    private final RecoveryBudgets budgets;
    private final Map<String, Deque<Long>> windows = new LinkedHashMap<>();
    private final Map<String, Holder> holders = new LinkedHashMap<>();
    private final List<Waiter> waiting = new ArrayList<>();

    BudgetLedger(RecoveryBudgets budgets) {
        this.budgets = budgets;
    }

    /** Decides a request at {@code now} (epoch ms), after whatever the passing of time decided for the others. */
    List<Answer> acquire(Request request, long now) {
        List<Answer> answers = tick(now);
        String id = request.id();
        if (holders.containsKey(id)) {
            answers.add(new Answer(request, BudgetVerdict.Granted, null, "already granted"));
            return answers;
        }
        if (waiting.stream().anyMatch(w -> w.request().id().equals(id))) {
            answers.add(new Answer(request, BudgetVerdict.Waiting, null, "already waiting"));
            return answers;
        }
        Decision decision = decide(request, now);
        if (decision.verdict() == BudgetVerdict.Waiting) {
            if (waiting.size() >= MAX_WAITING) {
                answers.add(new Answer(request, BudgetVerdict.Exceeded, decision.budget().name(), decision.message() + "; and "
                        + MAX_WAITING + " recoveries are already waiting, the most the arbiter keeps"));
                return answers;
            }
            waiting.add(new Waiter(request, now));
            answers.add(new Answer(request, BudgetVerdict.Waiting, decision.budget().name(), decision.message() + "; waiting at most "
                    + RecoveryBudgets.format(budgets.maxWait())));
            return answers;
        }
        answers.add(answer(request, decision, now));
        return answers;
    }

    /** The recovery ended (or its agent stopped waiting): frees what it held, and grants the waiters that now fit. */
    List<Answer> release(Request request, long now) {
        String id = request.id();
        holders.remove(id);
        waiting.removeIf(w -> w.request().id().equals(id));
        return tick(now);
    }

    /**
     * Lets time pass: windows slide, slots held longer than {@code releaseAfter} are freed, waiters past {@code maxWait}
     * are refused, and the waiters that now fit are granted, in the order they came.
     */
    List<Answer> tick(long now) {
        List<Answer> answers = new ArrayList<>();
        windows.entrySet().removeIf(entry -> {
            // a budget removed from the file, or no longer windowed under the same name, keeps no window
            Budget budget = budgetOf(entry.getKey());
            if (budget == null || !budget.windowed()) {
                return true;
            }
            Deque<Long> starts = entry.getValue();
            while (!starts.isEmpty() && starts.peekFirst() <= now - budget.window().toMillis()) {
                starts.pollFirst();
            }
            return starts.isEmpty();
        });
        holders.values().removeIf(h -> h.grantedAt() <= now - budgets.releaseAfter().toMillis());
        for (Iterator<Waiter> it = waiting.iterator(); it.hasNext();) {
            Waiter waiter = it.next();
            Decision decision = decide(waiter.request(), now);
            if (decision.verdict() != BudgetVerdict.Waiting) {
                it.remove();
                answers.add(answer(waiter.request(), decision, now));
            } else if (waiter.since() <= now - budgets.maxWait().toMillis()) {
                it.remove();
                answers.add(new Answer(waiter.request(), BudgetVerdict.Exceeded, decision.budget().name(), decision.message()
                        + "; waited " + RecoveryBudgets.format(budgets.maxWait()) + " (maxWait) without room"));
            }
        }
        return answers;
    }

    /** Grants (and counts) or refuses; a waiting decision is the caller's to queue. */
    private Answer answer(Request request, Decision decision, long now) {
        if (decision.verdict() == BudgetVerdict.Exceeded) {
            return new Answer(request, BudgetVerdict.Exceeded, decision.budget().name(), decision.message());
        }
        List<Budget> covering = covering(request);
        List<String> keys = covering.stream().map(budget -> countKey(budget, request)).toList();
        List<String> atOnce = new ArrayList<>();
        for (int i = 0; i < covering.size(); i++) {
            if (covering.get(i).windowed()) {
                windows.computeIfAbsent(keys.get(i), k -> new ArrayDeque<>()).addLast(now);
            } else {
                atOnce.add(keys.get(i));
            }
        }
        holders.put(request.id(), new Holder(request, now, List.copyOf(atOnce)));
        List<String> counts = new ArrayList<>();
        for (int i = 0; i < covering.size(); i++) {
            counts.add(keys.get(i) + ": " + used(covering.get(i), keys.get(i)) + " of " + covering.get(i).describeLimit());
        }
        return new Answer(request, BudgetVerdict.Granted, null, counts.isEmpty() ? "no budget covers it" : "within " + String.join(", ", counts));
    }

    private Decision decide(Request request, long now) {
        Decision waits = null;
        for (Budget budget : covering(request)) {
            String key = countKey(budget, request);
            boolean full;
            String usage;
            if (budget.windowed()) {
                int started = used(budget, key);
                full = started >= budget.limit();
                usage = started + " started in the last " + RecoveryBudgets.format(budget.window());
            } else {
                Set<String> nodes = nodesIn(key);
                // a node already in recovery under this count takes no second place in it
                full = nodes.size() >= budget.limit() && !nodes.contains(request.node());
                usage = "in recovery now: " + String.join(", ", new TreeSet<>(nodes));
            }
            if (!full) {
                continue;
            }
            String message = "budget " + key + " allows " + budget.describeLimit() + " (" + usage + ")";
            if (budget.onExceeded() == OnExceeded.Fail) {
                return new Decision(BudgetVerdict.Exceeded, budget, message);
            }
            if (waits == null) {
                waits = new Decision(BudgetVerdict.Waiting, budget, message);
            }
        }
        return waits != null ? waits : new Decision(BudgetVerdict.Granted, null, null);
    }

    private List<Budget> covering(Request request) {
        return budgets.covering(request.namespace(), request.recovererNamespace(), request.recovererName());
    }

    private static String countKey(Budget budget, Request request) {
        return budget.countKey(request.namespace(), request.recovererNamespace(), request.recovererName());
    }

    private int used(Budget budget, String key) {
        if (budget.windowed()) {
            Deque<Long> starts = windows.get(key);
            return starts == null ? 0 : starts.size();
        }
        return nodesIn(key).size();
    }

    private Set<String> nodesIn(String key) {
        Set<String> nodes = new LinkedHashSet<>();
        holders.values().stream().filter(h -> h.atOnceKeys().contains(key)).forEach(h -> nodes.add(h.request().node()));
        return nodes;
    }

    /** The budget a count key belongs to: the key's first word; {@code null} for one the file no longer has. */
    private Budget budgetOf(String key) {
        String name = key.split(" ", 2)[0];
        return budgets.budgets().stream().filter(b -> b.name().equals(name)).findFirst().orElse(null);
    }

    /** Per budget, the most any of its counts uses now (the gauge {@code kdiag_recovery_budget_usage}). */
    Map<String, Integer> usage() {
        Map<String, Integer> usage = new LinkedHashMap<>();
        for (Budget budget : budgets.budgets()) {
            usage.put(budget.name(), 0);
        }
        for (String key : windows.keySet()) {
            Budget budget = budgetOf(key);
            if (budget != null) {
                usage.merge(budget.name(), used(budget, key), Math::max);
            }
        }
        for (Holder holder : holders.values()) {
            for (String key : holder.atOnceKeys()) {
                Budget budget = budgetOf(key);
                if (budget != null) {
                    usage.merge(budget.name(), nodesIn(key).size(), Math::max);
                }
            }
        }
        return usage;
    }

    /** How many recoveries wait for room. */
    int waiting() {
        return waiting.size();
    }

    /** Whether time can change anything: a window to slide, a slot to free, a waiter to grant or refuse. */
    boolean idle() {
        return windows.isEmpty() && holders.isEmpty() && waiting.isEmpty();
    }

    /** The ledger as the arbiter's store keeps it. */
    byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(FORMAT);
            out.writeInt(windows.size());
            for (Map.Entry<String, Deque<Long>> entry : windows.entrySet()) {
                out.writeUTF(entry.getKey());
                out.writeInt(entry.getValue().size());
                for (long start : entry.getValue()) {
                    out.writeLong(start);
                }
            }
            out.writeInt(holders.size());
            for (Holder holder : holders.values()) {
                write(out, holder.request());
                out.writeLong(holder.grantedAt());
                out.writeInt(holder.atOnceKeys().size());
                for (String key : holder.atOnceKeys()) {
                    out.writeUTF(key);
                }
            }
            out.writeInt(waiting.size());
            for (Waiter waiter : waiting) {
                write(out, waiter.request());
                out.writeLong(waiter.since());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * The ledger {@link #encode} wrote, under the budgets in force now (counts of a budget the file no longer has are
     * dropped at the next {@link #tick}).
     *
     * @throws IllegalArgumentException if the bytes are no ledger of this format
     */
    static BudgetLedger decode(byte[] bytes, RecoveryBudgets budgets) {
        BudgetLedger ledger = new BudgetLedger(budgets);
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            int format = in.readInt();
            if (format != FORMAT) {
                throw new IllegalArgumentException("budget ledger of format " + format + ", not " + FORMAT);
            }
            for (int i = in.readInt(); i > 0; i--) {
                String key = in.readUTF();
                Deque<Long> starts = new ArrayDeque<>();
                for (int n = in.readInt(); n > 0; n--) {
                    starts.addLast(in.readLong());
                }
                ledger.windows.put(key, starts);
            }
            for (int i = in.readInt(); i > 0; i--) {
                Request request = read(in);
                long grantedAt = in.readLong();
                List<String> keys = new ArrayList<>();
                for (int n = in.readInt(); n > 0; n--) {
                    keys.add(in.readUTF());
                }
                ledger.holders.put(request.id(), new Holder(request, grantedAt, List.copyOf(keys)));
            }
            for (int i = in.readInt(); i > 0; i--) {
                ledger.waiting.add(new Waiter(read(in), in.readLong()));
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("unreadable budget ledger: " + e, e);
        }
        return ledger;
    }

    private static void write(DataOutputStream out, Request request) throws IOException {
        out.writeUTF(request.uid());
        out.writeUTF(request.node());
        out.writeUTF(request.namespace());
        out.writeUTF(request.recovererNamespace());
        out.writeUTF(request.recovererName());
    }

    private static Request read(DataInputStream in) throws IOException {
        return new Request(in.readUTF(), in.readUTF(), in.readUTF(), in.readUTF(), in.readUTF());
    }
}
