// A JVM that keeps one core busy in a method of its own, run by the container tier with the JDK's source launcher
// (java Busy.java) so that the Java profiler has something to find.
public class Busy {
    static long spinHashes(long seed) {
        long h = seed;
        for (int i = 0; i < 1_000_000; i++) {
            h = h * 31 + (h >>> 7) + i;
        }
        return h;
    }

    public static void main(String[] args) {
        long h = 1;
        while (true) {
            h = spinHashes(h);
            if (h == 42) {
                System.out.println(h);
            }
        }
    }
}
