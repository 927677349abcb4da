/** The AbnormalSource rules in force, compiled from their CRs, that start abnormals from Kubernetes Events and alerts. */
package io.kdiag.sourcebridge.rules;
