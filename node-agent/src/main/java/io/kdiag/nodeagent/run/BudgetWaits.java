package io.kdiag.nodeagent.run;

import java.util.List;

import io.kdiag.nodeagent.processors.Processors;
import io.kdiag.schemas.avro.BudgetChecked;
import io.kdiag.schemas.avro.BudgetVerdict;
import io.kdiag.schemas.avro.NamespacedName;

/**
 * The recovery budget as a gate an abnormal is parked at: a recovery over a budget with {@code onExceeded: Wait} waits
 * parked ({@link Parking}), without holding the agent, until the arbiter grants or refuses it, or until the agent's
 * deadline ({@code maxWait} and the answer timeout) passes. The answer is recorded as a second {@code BudgetChecked}.
 */
public final class BudgetWaits implements Gate {
    /** The gate's name, kept with every abnormal parked for budget. */
    public static final String GATE = "Budget";

    private final RecoveryBudgetGate budgets;

    /** The waits of these budgets. */
    public BudgetWaits(RecoveryBudgetGate budgets) {
        this.budgets = budgets;
    }

    @Override
    public String name() {
        return GATE;
    }

    /** The answers that came for parked abnormals since the last call (the consumer thread hands them on). */
    List<RecoveryBudgetGate.Late> lateAnswers() {
        return budgets.lateAnswers();
    }

    /** How the wait ends on the arbiter's answer; {@code null} when it still waits ({@code Waiting} again). */
    Answer answered(RecoveryBudgetGate.Late late) {
        RecoveryBudgetGate.Answer answer = late.answer();
        BudgetChecked checked = new BudgetChecked(late.recoverer(), answer.verdict(), answer.budget(),
                answer.message() == null ? null : AbnormalEvents.truncate(answer.message()));
        return switch (answer.verdict()) {
            case Granted -> Answer.proceed(checked);
            case Waiting -> null;
            default -> Answer.refuse(checked, RecoveryBudgetGate.EXCEEDED_REASON,
                    "recoverer " + Processors.name(late.recoverer()) + " not run: " + answer.message());
        };
    }

    /** Asks again for every abnormal parked here: an answer that came while the agent was down was not read. */
    public void askAgain(List<Parking.Parked> parked) {
        for (Parking.Parked p : parked) {
            if (p.gate().equals(GATE)) {
                budgets.ask(p.uid(), p.request().getNamespace(), Processors.parse(p.subject()));
            }
        }
    }

    @Override
    public Answer expired(Parking.Parked parked) {
        NamespacedName recoverer = Processors.parse(parked.subject());
        // withdraw the wait: a grant that comes later must not hold a place for nothing
        budgets.release(parked.uid(), parked.request().getNamespace(), recoverer);
        String message = "no room in the recovery budgets before " + parked.deadline() + "; the recovery does not run";
        return Answer.refuse(new BudgetChecked(recoverer, BudgetVerdict.Exceeded, null, message), RecoveryBudgetGate.EXCEEDED_REASON,
                "recoverer " + Processors.name(recoverer) + " not run: " + message);
    }

    /** The recoverer as a wait keeps it: {@code namespace/name}. */
}
