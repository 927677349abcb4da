package io.kdiag.nodeagent.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.ShadowFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.spi.OutputJson;
import org.junit.jupiter.api.Test;

class AbnormalEventsTest {
    private final AbnormalEvents events = new AbnormalEvents("uid-1", "node-a", 7, new RunFixtures.ListSink(), null,
            Clock.fixed(Instant.parse("2026-12-03T10:00:00Z"), ZoneOffset.UTC));

    private static ProcessorFinished finished(String contextUpdates) {
        return ProcessorFinished.newBuilder().setStage(Stage.InformationCollection).setProcessor(new NamespacedName("ns", "c"))
                .setSucceeded(true).setContextUpdates(contextUpdates).setRemovedContextKeys(List.of("old")).setDurationMillis(12).build();
    }

    /** Output whose JSON takes {@code bytes} bytes of UTF-8, written with two-byte characters when {@code wide}. */
    private static OutputJson ofBytes(int bytes, boolean wide) {
        // {"k":"…"} is 8 bytes around the value
        String value = wide ? "é".repeat((bytes - 8) / 2) + "x".repeat((bytes - 8) % 2) : "x".repeat(bytes - 8);
        OutputJson json = OutputJson.of(Map.of("k", value));
        assertThat(json.utf8Bytes()).isEqualTo(bytes);
        return json;
    }

    @Test
    void shouldSizeAnEventWithItsJsonAsEncodingItDoesAcrossEveryLengthPrefixWidth() {
        ToIntFunction<OutputJson> sizeWith = events.encodedSizeWith(finished(""));
        // the length prefix (a zig-zag varint) takes one more byte from 64, 8,192 and 1,048,576 bytes on
        for (int bytes : new int[] {8, 63, 64, 65, 8191, 8192, 8193, 1_048_575, 1_048_576, 1_048_577}) {
            for (boolean wide : new boolean[] {false, true}) {
                OutputJson json = ofBytes(bytes, wide);

                assertThat(sizeWith.applyAsInt(json)).as("%d bytes", bytes).isEqualTo(events.encodedSize(finished(json.text())));
            }
        }
    }

    @Test
    void shouldSizeAShadowsOutputEitherField() {
        ShadowFinished.Builder shadow = ShadowFinished.newBuilder().setStage(Stage.Recovery).setProcessor(new NamespacedName("ns", "r"))
                .setVerdict(true).setDurationMillis(0);
        OutputJson json = ofBytes(100, true);

        assertThat(events.encodedSizeWith(shadow.setPlan("").build()).applyAsInt(json))
                .isEqualTo(events.encodedSize(shadow.setPlan(json.text()).build()));
        assertThat(events.encodedSizeWith(shadow.setPlan(null).setContextUpdates("").build()).applyAsInt(json))
                .isEqualTo(events.encodedSize(shadow.setContextUpdates(json.text()).build()));
    }
}
