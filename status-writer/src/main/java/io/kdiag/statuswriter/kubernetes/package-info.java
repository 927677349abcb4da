/** What the status writer does on the cluster: projects snapshots onto the Abnormal CRs' status and deletes old CRs. */
package io.kdiag.statuswriter.kubernetes;
