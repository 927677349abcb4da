package io.kdiag.profilers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class PprofTest {
    /** A CPU profile as Go writes it: samples/count then cpu/nanoseconds. */
    private static PprofBuilder cpuProfile() {
        PprofBuilder builder = new PprofBuilder().sampleType("samples", "count").sampleType("cpu", "nanoseconds");
        long main = builder.location("main.main");
        long serve = builder.location("main.serve");
        long hash = builder.location("crypto/sha256.block");
        builder.sample(new long[] {hash, serve, main}, 3, 30_000_000);
        builder.sample(new long[] {serve, main}, 1, 10_000_000);
        builder.sample(new long[] {hash, serve, main}, 2, 20_000_000);
        return builder;
    }

    @Test
    void shouldReadStacksRootFirstWeightedByTheLastSampleType() {
        Pprof.Profile profile = Pprof.parse(cpuProfile().gzipped());

        assertThat(profile.sampleType()).isEqualTo("cpu");
        assertThat(profile.unit()).isEqualTo("nanoseconds");
        assertThat(profile.stacks().stacks()).containsExactly(
                Map.entry(List.of("main.main", "main.serve", "crypto/sha256.block"), 50_000_000L),
                Map.entry(List.of("main.main", "main.serve"), 10_000_000L));
    }

    @Test
    void shouldReadAnUncompressedProfileWithUnpackedRepeatedFields() {
        Pprof.Profile packed = Pprof.parse(cpuProfile().gzipped());
        Pprof.Profile unpacked = Pprof.parse(cpuProfile().unpacked().build());

        assertThat(unpacked.stacks().stacks()).isEqualTo(packed.stacks().stacks());
    }

    @Test
    void shouldPickInuseSpaceFromAHeapProfile() {
        PprofBuilder builder = new PprofBuilder().sampleType("alloc_objects", "count").sampleType("alloc_space", "bytes")
                .sampleType("inuse_objects", "count").sampleType("inuse_space", "bytes");
        long alloc = builder.location("main.newBuffer");
        builder.sample(new long[] {alloc}, 10, 4096, 2, 1024);

        Pprof.Profile profile = Pprof.parse(builder.gzipped());

        assertThat(profile.sampleType()).isEqualTo("inuse_space");
        assertThat(profile.unit()).isEqualTo("bytes");
        assertThat(profile.stacks().stacks()).containsExactly(Map.entry(List.of("main.newBuffer"), 1024L));
    }

    @Test
    void shouldPutAnInlinedFunctionAboveItsCaller() {
        PprofBuilder builder = new PprofBuilder().sampleType("cpu", "nanoseconds");
        long main = builder.location("main.main");
        long inlined = builder.location("strings.IndexByte", "main.parse");
        builder.sample(new long[] {inlined, main}, 7);

        assertThat(Pprof.parse(builder.build()).stacks().stacks())
                .containsExactly(Map.entry(List.of("main.main", "main.parse", "strings.IndexByte"), 7L));
    }

    @Test
    void shouldNameAnUnsymbolizedLocationByItsAddress() {
        PprofBuilder builder = new PprofBuilder().sampleType("cpu", "nanoseconds");
        long main = builder.location("main.main");
        long unknown = builder.unsymbolizedLocation(0x7f00dead);
        builder.sample(new long[] {unknown, main}, 5);

        assertThat(Pprof.parse(builder.build()).stacks().stacks())
                .containsExactly(Map.entry(List.of("main.main", "0x7f00dead"), 5L));
    }

    @Test
    void shouldRefuseWhatIsNotAProfile() {
        byte[] text = "goroutine profile: total 4\n4 @ 0x43a8f6 0x46c0a5\n".getBytes(StandardCharsets.UTF_8);
        byte[] truncated = Arrays.copyOf(cpuProfile().build(), 40);

        assertThatThrownBy(() -> Pprof.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("not a pprof profile");
        assertThatThrownBy(() -> Pprof.parse(truncated)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("not a pprof profile");
        assertThatThrownBy(() -> Pprof.parse(new byte[] {0x1f, (byte) 0x8b, 1, 2})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bad gzip data");
    }
}
