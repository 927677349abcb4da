package io.kdiag.sourcebridge;

/**
 * A rule that matched, and the submission it produced.
 *
 * @param rule the first matching AbnormalSource
 * @param submission the abnormal to forward
 */
record RuleMatch(SourceRule rule, Submission submission) {
}
