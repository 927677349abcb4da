package io.kdiag.nodeagent.kafka;

import java.time.Duration;
import java.util.function.Consumer;

import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A thread of its own that polls an assigned consumer until closed and hands each poll's records on. A poll that fails
 * is logged and tried again after a pause, so a lasting failure does not spin; the consumer is closed when it stops.
 */
final class TopicFollower implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TopicFollower.class);
    private static final Duration POLL = Duration.ofSeconds(1);
    private static final Duration RETRY_PAUSE = Duration.ofSeconds(1);

    private final KafkaConsumer<String, byte[]> consumer;
    private final Consumer<ConsumerRecords<String, byte[]>> onPoll;
    private final String what;
    private final String nodeName;
    private final Thread loop;
    private volatile boolean closing;

    /** {@code what}: the topic followed, for the logs and the thread's name ({@code kdiag-<what>}). */
    TopicFollower(KafkaConsumer<String, byte[]> consumer, String what, String nodeName, Consumer<ConsumerRecords<String, byte[]>> onPoll) {
        this.consumer = consumer;
        this.onPoll = onPoll;
        this.what = what;
        this.nodeName = nodeName;
        this.loop = new Thread(this::follow, "kdiag-" + what);
        loop.setDaemon(true);
    }

    void start() {
        loop.start();
    }

    private void follow() {
        try {
            // the first round hands on nothing, without polling: a follower that has already read to the end (an empty
            // topic, the usual case) knows it at once instead of after a poll that waits out its second
            boolean first = true;
            while (!closing) {
                try {
                    onPoll.accept(first ? ConsumerRecords.empty() : consumer.poll(POLL));
                    first = false;
                } catch (WakeupException e) {
                    throw e;
                } catch (RuntimeException e) {
                    LOG.warn("topic not read topic={} node={} error={}", what, nodeName, e.toString());
                    Thread.sleep(RETRY_PAUSE.toMillis());
                }
            }
        } catch (WakeupException | InterruptedException e) {
            if (!closing) {
                LOG.error("topic no longer followed topic={} node={}", what, nodeName, e);
            }
        } finally {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        }
    }

    /** Stops polling and closes the consumer (waits up to 10 s). */
    @Override
    public void close() {
        closing = true;
        consumer.wakeup();
        try {
            loop.join(Duration.ofSeconds(10).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
