package io.kdiag.sourcebridge.rules;

import io.kdiag.sourcebridge.gate.Submission;

/**
 * A rule that matched, and the submission it produced.
 *
 * @param rule the first matching AbnormalSource
 * @param submission the abnormal to forward
 */
public record RuleMatch(SourceRule rule, Submission submission) {
}
