package io.kdiag.testkit;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;

/**
 * Starts an entry point ({@code main}) in a JVM of its own and, once it has run, makes Avro build a generated record
 * there: whether Avro trusts the project's records must not depend on which classes the process happened to load
 * first. The child has this JVM's class path, none of its system properties and no {@code KDIAG_*} variable; its
 * entry point runs as far as its arguments take it (usually to an error about missing configuration), then, on exit
 * (also {@code System.exit}), the first Avro use of its own: a builder copy, which fills in an enum and so resolves a
 * generated class through Avro's class check — what no serde has done for it.
 */
public final class FreshJvm {
    /** What the child prints when the Avro use after the entry point worked. */
    public static final String TRUSTED = "kdiag-avro-after-entry-point=trusted";
    /** What the child prints, followed by the exception, when it did not. */
    public static final String REFUSED = "kdiag-avro-after-entry-point=refused";
    private static final String AVRO_USE = "kdiag.fresh-jvm.avro-use";

    private FreshJvm() {
    }

    /** What a child printed (stdout and stderr together) and its exit code. */
    public record Child(int exitCode, String output) {
        /** Whether the Avro use after the entry point worked. */
        public boolean avroTrusted() {
            return output.contains(TRUSTED) && !output.contains(REFUSED) && !output.contains("Forbidden io.kdiag");
        }
    }

    /** Runs {@code entryPoint.main(args)} in a fresh JVM, then copies a record, as the class comment says. */
    public static Child run(Class<?> entryPoint, String... args) throws IOException, InterruptedException {
        return run(entryPoint, null, args);
    }

    /**
     * As {@link #run(Class, String...)}, with {@code avroUse} (a {@link Runnable} with a public no-argument constructor)
     * as the first Avro use after the entry point instead of the record copy: a path of the entry point's own.
     */
    public static Child run(Class<?> entryPoint, Class<? extends Runnable> avroUse, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path")));
        if (avroUse != null) {
            command.add("-D" + AVRO_USE + "=" + avroUse.getName());
        }
        command.add(FreshJvm.class.getName());
        command.add(entryPoint.getName());
        command.addAll(Arrays.asList(args));
        // the output goes to a file, not a pipe: reading a pipe to its end would wait for a child that hangs, past the timeout
        Path outputFile = Files.createTempFile("kdiag-fresh-jvm", ".out");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(outputFile.toFile());
            builder.environment().keySet().removeIf(name -> name.startsWith("KDIAG_"));
            Process process = builder.start();
            process.getOutputStream().close();
            boolean ended = process.waitFor(60, TimeUnit.SECONDS);
            if (!ended) {
                process.destroyForcibly().waitFor();
            }
            String output = Files.readString(outputFile, StandardCharsets.UTF_8);
            if (!ended) {
                throw new IllegalStateException("the child did not end within 60 s: " + output);
            }
            return new Child(process.exitValue(), output);
        } finally {
            Files.deleteIfExists(outputFile);
        }
    }

    /** The child: {@code FreshJvm ENTRY_POINT ARGS...}. */
    public static void main(String[] args) throws Throwable {
        Runtime.getRuntime().addShutdownHook(new Thread(FreshJvm::useAvro, "kdiag-avro-after-entry-point"));
        try {
            Class.forName(args[0]).getMethod("main", String[].class).invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (InvocationTargetException e) {
            // the entry point's own failure is part of the output; the Avro use still runs
            e.getCause().printStackTrace();
        }
        System.exit(0);
    }

    private static void useAvro() {
        try {
            String avroUse = System.getProperty(AVRO_USE);
            if (avroUse == null) {
                AbnormalRequest request = new AbnormalRequest("uid", "default", "name", "node-1", Origin.Log, Instant.EPOCH, "{}", Map.of());
                AbnormalRequest.newBuilder(request).build();
            } else {
                ((Runnable) Class.forName(avroUse).getConstructor().newInstance()).run();
            }
            System.out.println(TRUSTED);
        } catch (Throwable e) {
            System.out.println(REFUSED + " " + e);
            e.printStackTrace(System.out);
        }
        System.out.flush();
    }
}
