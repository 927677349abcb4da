/**
 * What a request must be before the gate takes it: decoding the ingest topic's records, the validator, refusals with
 * their CamelCase reasons, and the names and uids of derived abnormals.
 */
package io.kdiag.sourcebridge.request;
