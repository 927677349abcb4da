package io.kdiag.profilers;

import java.util.ArrayList;
import java.util.List;

/**
 * The JVM the Java profiler tests attach to: keeps {@link #BALLAST_OBJECTS} {@link Ballast} objects live, prints
 * {@code ready}, then spins on the CPU in {@link #burnCpuInRecognisableMethod()} until it is killed.
 */
public final class CpuSpinner {
    /** How many {@link Ballast} objects stay live. */
    public static final int BALLAST_OBJECTS = 1234;
    private static final List<Ballast> BALLAST = new ArrayList<>();
    private static volatile long sink;

    private CpuSpinner() {
    }

    /** Runs until killed. */
    public static void main(String[] args) {
        for (int i = 0; i < BALLAST_OBJECTS; i++) {
            BALLAST.add(new Ballast(i));
        }
        System.out.println("ready");
        System.out.flush();
        while (true) {
            burnCpuInRecognisableMethod();
        }
    }

    static void burnCpuInRecognisableMethod() {
        long x = sink;
        for (int i = 0; i < 1_000_000; i++) {
            x += i * 31L ^ x >>> 3;
        }
        sink = x;
    }

    /** An object whose class the heap histogram must list. */
    record Ballast(long id) {
    }
}
