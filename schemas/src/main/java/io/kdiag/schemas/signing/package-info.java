/**
 * The signature every record of {@code kdiag.abnormals} carries: the gate that writes the record (the source bridge, or
 * a node's log source) signs it with an Ed25519 key, and the node agent runs only records that one of its verification
 * keys verifies. An approver signs each decision of {@code kdiag.approvals} the same way, for another
 * {@link io.kdiag.schemas.signing.SignatureDomain}. Key files are PEM, as {@code openssl genpkey -algorithm ed25519} writes them.
 */
package io.kdiag.schemas.signing;
