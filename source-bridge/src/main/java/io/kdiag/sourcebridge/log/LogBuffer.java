package io.kdiag.sourcebridge.log;

import com.google.re2j.Matcher;

/**
 * The latest messages of one log, as node-problem-detector's log buffer keeps them: a ring of {@code bufferSize}
 * messages that a rule's pattern (ending in {@code \z}) is searched in, joined by newlines. A pattern may so span
 * several messages (e.g. an OOM report over two kernel lines); since it must match up to the end, each match includes
 * the newest message, and a message starts each abnormal at most once per rule. Not thread-safe: one per follower.
 */
final class LogBuffer {
    private final String[] messages;
    /** How many messages were pushed; the newest is at {@code (pushed - 1) % length}. */
    private long pushed;
    private String joined;

    LogBuffer(int size) {
        this.messages = new String[size];
    }

    void push(String message) {
        messages[(int) (pushed % messages.length)] = message;
        pushed++;
        joined = null;
    }

    /**
     * The messages {@code rule} matches at the end of the buffer, joined by newlines (NPD's message for them), with the
     * rule's message suffix; {@code null} when it does not match.
     */
    String match(MonitorConfig.Rule rule) {
        String text = text();
        Matcher matcher = rule.pattern().matcher(text);
        if (!matcher.find()) {
            return null;
        }
        // from the start of the message the match starts in
        int from = text.lastIndexOf('\n', matcher.start() - 1) + 1;
        String matched = text.substring(from);
        return rule.messageSuffix() == null || rule.messageSuffix().isEmpty() ? matched : matched + "; " + rule.messageSuffix();
    }

    /**
     * The whole ring, oldest first, joined by newlines; slots not yet filled are empty messages, as in NPD (so until
     * the ring is full the text starts with newlines, and {@code ^} without {@code (?m)} never matches there either).
     */
    private String text() {
        if (joined == null) {
            StringBuilder text = new StringBuilder();
            for (long i = pushed; i < pushed + messages.length; i++) {
                if (i > pushed) {
                    text.append('\n');
                }
                String message = messages[(int) (i % messages.length)];
                text.append(message == null ? "" : message);
            }
            joined = text.toString();
        }
        return joined;
    }
}
