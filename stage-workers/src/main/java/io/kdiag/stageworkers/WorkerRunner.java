package io.kdiag.stageworkers;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

import io.kdiag.stageworkers.spi.OutputJson;
import io.kdiag.stageworkers.spi.RecoveryPlan;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;

/**
 * Runs worker calls so that one bad worker cannot hurt the agent: every call has a timeout ({@code Timeout}), an
 * exception becomes a failed result ({@code Error}), and output whose JSON exceeds the cap is refused
 * ({@code OutputTooLarge}).
 */
public final class WorkerRunner implements AutoCloseable {
    private final int maxOutputBytes;
    private final ExecutorService executor;

    /** A runner with this cap on the JSON size of a call's context updates. */
    public WorkerRunner(int maxOutputBytes) {
        this.maxOutputBytes = maxOutputBytes;
        AtomicInteger threads = new AtomicInteger();
        // a worker that ignores interruption keeps its thread; daemon threads never hold the JVM up
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "kdiag-worker-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Runs one worker call and never throws for the worker's faults.
     *
     * @param timeout how long the call may take
     * @throws InterruptedException if the calling thread is interrupted; the call is cancelled
     */
    public WorkResult run(StageWorker worker, WorkContext ctx, Duration timeout) throws InterruptedException {
        WorkResult result = call(worker, () -> worker.run(ctx), timeout, WorkResult::failed);
        if (result.succeeded()) {
            String refused = tooLarge(worker, result.contextJson(), "context");
            if (refused != null) {
                return WorkResult.failed("OutputTooLarge", refused);
            }
        }
        return result;
    }

    /**
     * Asks a recoverer what it would do ({@link StageWorker#plan}), with the same timeout, containment and output cap
     * as a {@link #run}; never throws for the worker's faults.
     *
     * @throws InterruptedException if the calling thread is interrupted; the call is cancelled
     */
    public RecoveryPlan plan(StageWorker worker, WorkContext ctx, Duration timeout) throws InterruptedException {
        RecoveryPlan plan = call(worker, () -> worker.plan(ctx), timeout, RecoveryPlan::notActing);
        if (plan.plan() != null) {
            String refused = tooLarge(worker, OutputJson.of(plan.plan()), "plan");
            if (refused != null) {
                return RecoveryPlan.notActing("OutputTooLarge", refused);
            }
        }
        return plan;
    }

    private <T> T call(StageWorker worker, Callable<T> body, Duration timeout, BiFunction<String, String, T> failed)
            throws InterruptedException {
        Future<T> call = executor.submit(body);
        T result;
        try {
            result = call.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            call.cancel(true);
            return failed.apply("Timeout", "worker " + worker.name() + " did not finish within " + describe(timeout));
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
            return failed.apply("Error", "worker " + worker.name() + " failed: " + message);
        } catch (InterruptedException e) {
            call.cancel(true);
            throw e;
        }
        return result == null ? failed.apply("Error", "worker " + worker.name() + " returned no result") : result;
    }

    /** Why {@code output} is refused as too large, or {@code null}. */
    private String tooLarge(StageWorker worker, OutputJson output, String what) {
        int size = output.utf8Bytes();
        return size <= maxOutputBytes ? null
                : "worker " + worker.name() + " produced " + size + " bytes of " + what + ", more than the limit of " + maxOutputBytes;
    }

    private static String describe(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    /** Stops the worker threads; calls still running are interrupted. */
    @Override
    public void close() {
        executor.shutdownNow();
    }
}
