/**
 * The sources that need a cluster: Abnormal CRs, Kubernetes Events and the rules' matching of them, pods' nodes, and
 * the CRs mirrored for abnormals that did not start as one.
 */
package io.kdiag.sourcebridge.kubernetes;
