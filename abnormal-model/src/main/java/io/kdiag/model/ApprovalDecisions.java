package io.kdiag.model;

import java.time.Instant;
import java.util.regex.Pattern;

import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.ApprovalDecision;

/**
 * What every writer and reader of an {@link ApprovalDecision} agrees on: what the answer to a wait
 * ({@link StatusFold#waitsForApproval}) says, which names a relay may decide for, and how the status shows a decision a
 * relay passed on.
 */
public final class ApprovalDecisions {
    /**
     * A person a relay may decide for: a Kubernetes user name as clusters issue them (plain names, e-mail addresses,
     * {@code system:serviceaccount:NS:NAME}, an OIDC issuer URL with {@code #subject}); no space or control character,
     * so that {@code "NAME via RELAY"} cannot be forged from inside the name.
     */
    private static final Pattern PERSON = Pattern.compile("[A-Za-z0-9._@:/#+=~-]{1,256}");

    private ApprovalDecisions() {
    }

    /**
     * The answer to the wait this status shows: its request is the status's last event, since nothing happens to an
     * abnormal while it waits.
     *
     * @param onBehalfOf the person a relay authenticated; {@code null} when the signer decides for themself
     * @throws IllegalStateException when the status shows no wait for approval (none was asked, or it was decided)
     * @throws IllegalArgumentException when {@code onBehalfOf} is no name a relay may decide for
     */
    public static ApprovalDecision answer(AbnormalStatus waiting, boolean approved, String reason, String onBehalfOf, Instant decidedAt) {
        if (!StatusFold.waitsForApproval(waiting)) {
            throw new IllegalStateException("abnormal " + waiting.getNamespace() + "/" + waiting.getName() + " (uid " + waiting.getUid()
                    + ") does not wait for approval: it is " + waiting.getPhase());
        }
        if (onBehalfOf != null && !isPerson(onBehalfOf)) {
            throw new IllegalArgumentException("a relay cannot decide for " + quoted(onBehalfOf) + ": " + PERSON_RULE);
        }
        return new ApprovalDecision(waiting.getUid(), waiting.getLastSeq(), approved, decidedAt, reason, onBehalfOf);
    }

    /** The longest reason a relay passes on, in characters, whoever gave it (a request body, an annotation). */
    public static final int MAX_REASON_CHARS = 1024;

    /** {@code ApprovalDecided.reason} of a wait that ended without a decision: the agent's, at the wait's deadline. */
    public static final String EXPIRED = "Expired";

    /** What {@link #isPerson} accepts, in words. */
    public static final String PERSON_RULE = "a name of 1 to 256 letters, digits and . _ @ : / # + = ~ -";

    /** Whether a relay may decide for a person of this name ({@link #PERSON_RULE}). */
    public static boolean isPerson(String name) {
        return name != null && PERSON.matcher(name).matches();
    }

    /** Who decided, as the status and the history show it, when {@code relay} passed on the decision of {@code person}. */
    public static String relayed(String person, String relay) {
        return person + " via " + relay;
    }

    /** A name for a message: quoted, and cut short, so a hostile one neither floods a log nor breaks its line. */
    public static String quoted(String name) {
        String shown = name.length() > 64 ? name.substring(0, 64) + "..." : name;
        return '"' + shown.replaceAll("[\\p{Cntrl}\"\\\\]", "?") + '"';
    }
}
