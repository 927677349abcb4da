/**
 * The status writer: folds {@code kdiag.diagnosis-events} into {@code AbnormalStatus} snapshots on the compacted
 * {@code kdiag.abnormal-status} topic, exactly once and in per-abnormal seq order, whatever order and however often
 * the events arrive; projects them to the Abnormal CRs' status, serves them over HTTP (port 8091) and garbage collects
 * old CRs. {@link io.kdiag.statuswriter.fold.StatusFoldTopology} is the Kafka Streams topology,
 * {@link io.kdiag.statuswriter.StatusWriter} runs it with the CR writer and reaper of
 * {@link io.kdiag.statuswriter.kubernetes} and the query API of {@link io.kdiag.statuswriter.query},
 * {@link io.kdiag.statuswriter.Main} is the deployable.
 */
package io.kdiag.statuswriter;
