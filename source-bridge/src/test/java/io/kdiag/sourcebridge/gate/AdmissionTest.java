package io.kdiag.sourcebridge.gate;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import org.junit.jupiter.api.Test;

class AdmissionTest {
    private static final long NOW = 1_000_000_000L;
    private static final long HOUR = Duration.ofHours(1).toMillis();

    private final Map<String, Long> forwarded = new HashMap<>(Map.of("uid/forwarded", NOW - 10 * HOUR, "event/default/web-0", NOW - HOUR));
    private final Admission admission = new Admission(forwarded::get, new StormLimiter(1, 100, () -> 0L), Duration.ofHours(6));

    @Test
    void shouldSuppressAUidForwardedBefore() {
        assertThat(admission.admit(request("forwarded"), null, false, NOW)).isEqualTo(Verdict.Outcome.DUPLICATE);
        assertThat(admission.admit(request("new"), null, false, NOW)).isEqualTo(Verdict.Outcome.FORWARDED);
        forwarded.put("uid/new", NOW);
        assertThat(admission.admit(request("new"), null, false, NOW)).isEqualTo(Verdict.Outcome.DUPLICATE);
    }

    @Test
    void shouldSuppressTheSameFaultOnlyWithinTheRepeatInterval() {
        assertThat(admission.admit(request("a"), "event/default/web-0", false, NOW)).isEqualTo(Verdict.Outcome.REPEAT_INTERVAL);
        assertThat(admission.admit(request("b"), "event/default/web-0", false, NOW + 5 * HOUR))
                .isEqualTo(Verdict.Outcome.FORWARDED);
    }

    @Test
    void shouldHoldOnlyAutomaticSourcesToTheStormLimitsAndRefundAToken() {
        assertThat(admission.admit(request("a"), null, true, NOW)).isEqualTo(Verdict.Outcome.FORWARDED);
        assertThat(admission.admit(request("b"), null, true, NOW)).isEqualTo(Verdict.Outcome.STORM_NODE);
        assertThat(admission.admit(request("b"), null, false, NOW)).isEqualTo(Verdict.Outcome.FORWARDED);

        admission.refund("node-1", NOW);

        assertThat(admission.admit(request("b"), null, true, NOW)).isEqualTo(Verdict.Outcome.FORWARDED);
    }

    private static AbnormalRequest request(String uid) {
        return AbnormalRequest.newBuilder().setUid(uid).setNamespace("default").setName("disk-full").setNodeName("node-1")
                .setOrigin(Origin.KubernetesEvent).setRequestedAt(Instant.EPOCH).setSpec("{}").build();
    }
}
