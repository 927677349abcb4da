package io.kdiag.client;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

import io.kdiag.schemas.avro.DiagnosisEvent;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A live follow of one abnormal's events, started by {@link KdiagClient#watch}. The listener runs on the watch's own
 * thread and gets each seq once, in the order the agent recorded them (which is seq order). The watch stops when it is
 * closed, when the listener throws, or when Kafka fails; {@link #failure()} then says why.
 */
public final class EventWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EventWatch.class);

    private final String uid;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Function<ConsumerRecord<String, byte[]>, DiagnosisEvent> decoder;
    private final Consumer<DiagnosisEvent> listener;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Thread thread;
    private volatile boolean closing;
    private volatile Throwable failure;

    private EventWatch(String uid, KafkaConsumer<String, byte[]> consumer,
                       Function<ConsumerRecord<String, byte[]>, DiagnosisEvent> decoder, Consumer<DiagnosisEvent> listener) {
        this.uid = uid;
        this.consumer = consumer;
        this.decoder = decoder;
        this.listener = listener;
        this.thread = new Thread(this::run, "kdiag-watch-" + uid);
        this.thread.setDaemon(true);
    }

    /** Starts following with a consumer already assigned and positioned; the watch owns and closes it. */
    static EventWatch start(String uid, KafkaConsumer<String, byte[]> consumer,
                            Function<ConsumerRecord<String, byte[]>, DiagnosisEvent> decoder, Consumer<DiagnosisEvent> listener) {
        EventWatch watch = new EventWatch(uid, consumer, decoder, listener);
        watch.thread.start();
        return watch;
    }

    private void run() {
        long lastSeq = -1;
        try {
            while (!closing) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    DiagnosisEvent event = decoder.apply(record);
                    // an agent that restarted may record a seq twice; the first copy is the one the fold keeps
                    if (event != null && uid.equals(event.getAbnormalUid()) && event.getSeq() > lastSeq) {
                        lastSeq = event.getSeq();
                        listener.accept(event);
                    }
                    if (closing) {
                        break;
                    }
                }
            }
        } catch (WakeupException e) {
            // close() woke the poll up
        } catch (RuntimeException e) {
            if (!closing) {
                failure = e;
                LOG.warn("watch stopped uid={} reason={}", uid, e.toString());
            }
        } finally {
            consumer.close();
            stopped.countDown();
        }
    }

    /** Whether the watch is still following. */
    public boolean isRunning() {
        return stopped.getCount() > 0;
    }

    /** Why the watch stopped on its own: the listener's exception or Kafka's; empty while running or after close. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    /**
     * Waits until the watch has stopped.
     *
     * @return whether it stopped within the timeout
     */
    public boolean awaitStop(Duration timeout) throws InterruptedException {
        return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Stops following; may be called from the listener. Returns once the consumer is closed, unless called from the listener. */
    @Override
    public void close() {
        closing = true;
        if (Thread.currentThread() == thread) {
            return;
        }
        if (isRunning()) {
            consumer.wakeup();
        }
        try {
            stopped.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
