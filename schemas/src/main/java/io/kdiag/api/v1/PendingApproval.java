package io.kdiag.api.v1;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The wait of a recovery for a person's decision, while it lasts: what an approval given by annotation answers. The
 * source bridge relays the annotation as a decision for exactly this wait, to the agent of this node.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PendingApproval {
    /** The seq of the {@code ApprovalRequested} event that began the wait; a decision answers this one wait only. */
    public Long requestSeq;
    /** The node whose agent waits. */
    public String nodeName;

    /** An empty wait, for deserialisation. */
    public PendingApproval() {
    }

    /** The wait begun by event {@code requestSeq} on node {@code nodeName}. */
    public PendingApproval(long requestSeq, String nodeName) {
        this.requestSeq = requestSeq;
        this.nodeName = nodeName;
    }
}
