/**
 * The Kubernetes API of Kube Diagnoser, group {@code diagnosis.netease.com}, version {@code v1}: {@code Abnormal}
 * (a fault on a node and the state of its diagnosis), the processor registrations {@code InformationCollector},
 * {@code Diagnoser} and {@code Recoverer}, and {@code AbnormalSource} (rules that turn Kubernetes Events and Prometheus
 * alerts into Abnormals).
 *
 * <p>The model keeps the original KubeDiag field names: every field of v0.1.6, plus v0.1.0's {@code skip*} flags and
 * registration {@code ip}/{@code port}, so existing manifests and remote processors keep working. v0.1.0's probe and
 * metrics fields of registrations ({@code readinessProbe}, {@code metricPath}) and their {@code status.lastDiagnosis} /
 * {@code status.lastRecovery} are not kept. The CRDs in {@code deploy/base/crds} are generated from these classes.
 */
package io.kdiag.api.v1;
