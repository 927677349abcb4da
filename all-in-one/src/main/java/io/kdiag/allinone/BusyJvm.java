package io.kdiag.allinone;

/**
 * The JVM {@code kdiag demo} profiles: it keeps one core busy in a method whose name shows up in the flame graph,
 * and stops by itself after two minutes in case the demo could not stop it.
 */
final class BusyJvm {
    private BusyJvm() {
    }

    /** Spins until killed or two minutes passed. */
    public static void main(String[] args) {
        long end = System.nanoTime() + 120_000_000_000L;
        long sink = 0;
        while (System.nanoTime() < end) {
            sink += computeDemoWorkload(sink);
        }
        System.exit(sink == 42 ? 1 : 0);
    }

    /** Busy work the JIT cannot remove. */
    static long computeDemoWorkload(long seed) {
        long x = seed | 1;
        for (int i = 0; i < 100_000; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
        }
        return x & 0xff;
    }
}
