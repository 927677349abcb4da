package io.kdiag.api.v1;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A profiler to run; exactly one of {@code go}, {@code java} and {@code python} is set. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ProfilerSpec {
    /** Unique name within the abnormal. */
    public String name;
    /** The stage it runs in: {@code InformationCollector}, {@code Diagnoser} or {@code Recoverer}. */
    public String type;
    /** A Go program's pprof profile. */
    public GoProfilerSpec go;
    /** A JVM's CPU profile or heap histogram. */
    public JavaProfilerSpec java;
    /** A Python process's CPU profile (py-spy). */
    public PythonProfilerSpec python;
    /** Seconds the profile may take; default 30. */
    public Integer timeoutSeconds;
    /** Seconds the result stays served; default 7200. */
    public Integer expirationSeconds;

    /** Go profiler input. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class GoProfilerSpec {
        /** A pprof HTTP endpoint or a profile file on the node. */
        public String source;
    }

    /** Java profiler input. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class JavaProfilerSpec {
        /** {@code CPU}, {@code HeapHistogram}, or the original's {@code Arthas} / {@code MemoryAnalyzer}. */
        public String type;
        /** The JVM's process id on the node. */
        public Integer pid;
        /** A heap dump to analyse ({@code MemoryAnalyzer}). */
        public String hprofFilePath;
    }

    /** Python profiler input. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class PythonProfilerSpec {
        /** The Python process's id on the node. */
        public Integer pid;
    }
}
