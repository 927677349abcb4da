package io.kdiag.sourcebridge.log;

/** Reads one log; {@link LogSource} calls {@link #step()} again and again on a thread of its own. */
interface Follower extends AutoCloseable {
    /** What it follows, for logs and checkpoints. */
    String id();

    /** Handles what is new; may block while a blocking source (a device, a process) has nothing. */
    void step() throws Exception;
}
