package io.kdiag.sourcebridge.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.ZoneId;
import java.time.ZoneOffset;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Go's {@code time.Time.String()} of the times KubeDiag's templates matched, for alerts and events, in two zones. */
class GoTimeTextTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', nullValues = "null", value = {
        "2021-03-01T08:10:12Z                 | 2021-03-01 08:10:12 +0000 UTC           | 2021-03-01 08:10:12 +0000 UTC",
        "2021-03-01T08:10:12.123Z             | 2021-03-01 08:10:12.123 +0000 UTC       | 2021-03-01 08:10:12.123 +0000 UTC",
        "2021-03-01T08:10:12.120000000Z       | 2021-03-01 08:10:12.12 +0000 UTC        | 2021-03-01 08:10:12.12 +0000 UTC",
        "2021-03-01T08:10:12.000000001Z       | 2021-03-01 08:10:12.000000001 +0000 UTC | 2021-03-01 08:10:12.000000001 +0000 UTC",
        "2021-03-01T08:10:12+00:00            | 2021-03-01 08:10:12 +0000 UTC           | 2021-03-01 08:10:12 +0000 UTC",
        "2021-03-01T16:10:12+08:00            | 2021-03-01 16:10:12 +0800 +0800         | 2021-03-01 08:10:12 +0000 UTC",
        "2021-03-01T03:10:12-05:00            | 2021-03-01 03:10:12 -0500 -0500         | 2021-03-01 08:10:12 +0000 UTC",
        "2021-03-01T13:40:12.5+05:30          | 2021-03-01 13:40:12.5 +0530 +0530       | 2021-03-01 08:10:12.5 +0000 UTC",
        "null                                 | 0001-01-01 00:00:00 +0000 UTC           | 0001-01-01 00:00:00 +0000 UTC",
        "0001-01-01T00:00:00Z                 | 0001-01-01 00:00:00 +0000 UTC           | 0001-01-01 00:00:00 +0000 UTC"})
    void shouldPrintTimesAsKubeDiagSawThemInUtc(String rfc3339, String alert, String event) {
        assertThat(GoTimeText.alertTime(rfc3339, ZoneId.of("UTC"))).isEqualTo(alert);
        assertThat(GoTimeText.eventTime(rfc3339, ZoneId.of("UTC"))).isEqualTo(event);
        assertThat(GoTimeText.alertTime(rfc3339, ZoneOffset.UTC)).isEqualTo(alert);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "2021-03-01T08:10:12Z      | 2021-03-01 08:10:12 +0000 UTC   | 2021-03-01 16:10:12 +0800 CST",
        "2021-03-01T16:10:12+08:00 | 2021-03-01 16:10:12 +0800 CST   | 2021-03-01 16:10:12 +0800 CST",
        "2021-03-01T08:10:12+00:00 | 2021-03-01 08:10:12 +0000 +0000 | 2021-03-01 16:10:12 +0800 CST"})
    void shouldPrintTimesAsKubeDiagSawThemInShanghai(String rfc3339, String alert, String event) {
        assertThat(GoTimeText.alertTime(rfc3339, ZoneId.of("Asia/Shanghai"))).isEqualTo(alert);
        assertThat(GoTimeText.eventTime(rfc3339, ZoneId.of("Asia/Shanghai"))).isEqualTo(event);
    }
}
