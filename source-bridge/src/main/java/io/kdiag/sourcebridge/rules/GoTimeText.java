package io.kdiag.sourcebridge.rules;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.TimeZone;

/**
 * A time as KubeDiag's templates match it: the text of Go's {@code time.Time.String()},
 * {@code 2021-03-01 08:10:12.123 +0000 UTC} — seconds, then the fraction only when not zero and without trailing zeros,
 * the numeric offset, and the zone's abbreviation (the numeric offset again for a zone without a name). An absent
 * time is Go's zero time, {@code 0001-01-01 00:00:00 +0000 UTC}.
 *
 * <p>Which zone: KubeDiag turned an Event's times into its process's local zone (UTC in its image), and kept an alert's
 * times in the offset they were sent with: {@code Z} is {@code UTC}, an offset equal to the local zone's at that
 * instant takes the local zone's name, any other offset is unnamed. {@code localZone} plays KubeDiag's local zone.
 */
final class GoTimeText {
    /** Go's zero time, what an absent time prints as. */
    static final String ZERO = "0001-01-01 00:00:00 +0000 UTC";

    private GoTimeText() {
    }

    /** An Event's {@code firstTimestamp} or {@code lastTimestamp}, as the text KubeDiag matched. */
    static String eventTime(String rfc3339, ZoneId localZone) {
        OffsetDateTime parsed = parse(rfc3339);
        if (parsed == null) {
            return rfc3339 == null || rfc3339.isBlank() ? ZERO : rfc3339;
        }
        Instant instant = parsed.toInstant();
        return format(instant, localZone.getRules().getOffset(instant), abbreviation(localZone, instant));
    }

    /** An alert's {@code startsAt} or {@code endsAt}, as the text KubeDiag matched. */
    static String alertTime(String rfc3339, ZoneId localZone) {
        OffsetDateTime parsed = parse(rfc3339);
        if (parsed == null) {
            return rfc3339 == null || rfc3339.isBlank() ? ZERO : rfc3339;
        }
        Instant instant = parsed.toInstant();
        ZoneOffset offset = parsed.getOffset();
        String name;
        if (rfc3339.strip().endsWith("Z") || rfc3339.strip().endsWith("z")) {
            name = "UTC";
        } else if (offset.equals(localZone.getRules().getOffset(instant))) {
            name = abbreviation(localZone, instant);
        } else {
            name = null;
        }
        return format(instant, offset, name);
    }

    private static OffsetDateTime parse(String rfc3339) {
        if (rfc3339 == null || rfc3339.isBlank()) {
            return null;
        }
        try {
            return OffsetDateTime.parse(rfc3339.strip());
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** Go's {@code String()} of {@code instant} at {@code offset}; {@code zone} null for an unnamed zone. */
    static String format(Instant instant, ZoneOffset offset, String zone) {
        LocalDateTime local = LocalDateTime.ofInstant(instant, offset);
        StringBuilder text = new StringBuilder(String.format(Locale.ROOT, "%04d-%02d-%02d %02d:%02d:%02d", local.getYear(),
                local.getMonthValue(), local.getDayOfMonth(), local.getHour(), local.getMinute(), local.getSecond()));
        if (local.getNano() != 0) {
            text.append('.').append(String.format(Locale.ROOT, "%09d", local.getNano()).replaceFirst("0+$", ""));
        }
        int seconds = offset.getTotalSeconds();
        String numeric = String.format(Locale.ROOT, "%s%02d%02d", seconds < 0 ? "-" : "+", Math.abs(seconds) / 3600,
                Math.abs(seconds) / 60 % 60);
        return text.append(' ').append(numeric).append(' ').append(zone != null ? zone : numeric).toString();
    }

    /** The zone's short name at that instant ({@code UTC}, {@code CST}, {@code CEST}), as Go's time zone data gives it. */
    private static String abbreviation(ZoneId zone, Instant instant) {
        if (zone instanceof ZoneOffset offset) {
            // a bare offset has no name in Go either
            return offset.equals(ZoneOffset.UTC) ? "UTC" : null;
        }
        boolean daylight = zone.getRules().isDaylightSavings(instant);
        return TimeZone.getTimeZone(zone).getDisplayName(daylight, TimeZone.SHORT, Locale.ROOT);
    }
}
