/**
 * The Kubernetes API of Kube Diagnoser, group {@code diagnosis.netease.com}, version {@code v1}: {@code Abnormal}
 * (a fault on a node and the state of its diagnosis), the processor registrations {@code InformationCollector},
 * {@code Diagnoser} and {@code Recoverer}, and {@code AbnormalSource} (rules that turn Kubernetes Events and Prometheus
 * alerts into Abnormals).
 *
 * <p>The model keeps the original KubeDiag field names (the union of v0.1.0 and v0.1.6), so existing manifests and
 * remote processors keep working. The CRDs in {@code deploy/base/crds} are generated from these classes.
 */
package io.kdiag.api.v1;
