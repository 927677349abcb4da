package io.kdiag.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import io.kdiag.client.EventWatch;
import io.kdiag.client.KdiagClient;
import io.kdiag.client.KdiagException;
import io.kdiag.model.FoldState;
import io.kdiag.model.Phases;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Phase;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code kdiag watch NAME}: an abnormal's steps as they happen, until it ends. */
@Command(name = "watch", mixinStandardHelpOptions = true,
        description = {"Follow an abnormal live: one line per event (time, stage, step, what happened, how long it took) "
                + "until it ended, then its final phase. The newest abnormal with that name is followed; when there is none "
                + "yet, watch waits for it to appear (so it can be started before 'kdiag submit').",
            "Events come straight from the diagnosis-events topic; the end is decided by folding them exactly as the "
                + "status writer does."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the abnormal Succeeded", "1:the abnormal Failed, or an error (e.g. NotFound)",
            "2:invalid usage, or the timeout passed first"})
final class WatchCommand implements Callable<Integer> {
    @ParentCommand
    KdiagCommand kdiag;

    @Spec
    CommandSpec spec;

    @Mixin
    AbnormalName abnormal;

    @Option(names = "--timeout", defaultValue = "0",
            description = "Seconds to wait for the abnormal to appear and end; 0 waits as long as it takes (default).")
    long timeoutSeconds;

    /** Where times are shown; the machine's zone. */
    ZoneId zone = ZoneId.systemDefault();

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long deadline = timeoutSeconds == 0 ? Long.MAX_VALUE : System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        try (KdiagClient client = kdiag.client()) {
            Optional<AbnormalStatus> found = abnormal.newest(client, Duration.ZERO);
            if (found.isEmpty()) {
                List<AbnormalRequest> forwarded = client.forwarded(abnormal.namespace, abnormal.name);
                if (forwarded.isEmpty()) {
                    err.printf("waiting for abnormal %s/%s to appear...%n", abnormal.namespace, abnormal.name);
                } else {
                    String node = forwarded.get(forwarded.size() - 1).getNodeName();
                    err.printf("abnormal %s/%s is Pending: forwarded to node %s, waiting for that node's agent to accept it...%n",
                            abnormal.namespace, abnormal.name, node);
                }
                err.flush();
                found = abnormal.newest(client, remaining(deadline));
            }
            if (found.isEmpty()) {
                // the timeout passed first, as when it ends before the abnormal does
                err.printf("Error from server (NotFound): abnormals \"%s\" not found in namespace %s (waited %d s)%n",
                        abnormal.name, abnormal.namespace, timeoutSeconds);
                return KdiagCommand.TIMED_OUT;
            }
            AbnormalStatus status = found.get();
            out.printf("abnormal %s/%s (uid %s) on node %s%n", abnormal.namespace, abnormal.name, status.getUid(), status.getNodeName());
            out.flush();

            FoldState fold = FoldState.empty();
            EventText.Describer describer = new EventText.Describer();
            CountDownLatch ended = new CountDownLatch(1);
            AtomicReference<AbnormalStatus> last = new AtomicReference<>();
            try (EventWatch watch = client.watch(status.getUid(), status.getNodeName(), event -> {
                out.println(EventText.watchLine(describer.describe(event), zone));
                out.flush();
                fold.offer(event, FoldState.MAX_PENDING);
                if (fold.current() != null && Phases.isFinal(fold.current().getPhase())) {
                    last.set(fold.current());
                    ended.countDown();
                }
            })) {
                while (!ended.await(500, TimeUnit.MILLISECONDS)) {
                    if (!watch.isRunning()) {
                        Throwable failure = watch.failure().orElse(null);
                        throw new KdiagException("the watch stopped: " + (failure == null ? "closed" : failure.getMessage()), failure);
                    }
                    if (System.nanoTime() >= deadline) {
                        err.printf("abnormal %s/%s did not end within %d s%n", abnormal.namespace, abnormal.name, timeoutSeconds);
                        return KdiagCommand.TIMED_OUT;
                    }
                }
            }
            AbnormalStatus end = last.get();
            out.println(finalLine(end));
            return end.getPhase() == Phase.Succeeded ? 0 : 1;
        }
    }

    /** {@code abnormal default/x Succeeded}, with the reason when it Failed. */
    static String finalLine(AbnormalStatus status) {
        String line = "abnormal " + status.getNamespace() + "/" + status.getName() + " " + status.getPhase();
        if (status.getPhase() == Phase.Failed && status.getReason() != null) {
            line += ": " + status.getReason() + (status.getMessage() == null ? "" : ": " + status.getMessage());
        }
        return line;
    }

    private static Duration remaining(long deadline) {
        return deadline == Long.MAX_VALUE ? Duration.ofDays(3650) : Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }
}
