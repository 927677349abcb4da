package io.kdiag.api.v1;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;

/** What a command printed, and how it ended. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CommandExecutorStatus {
    /** Executable and arguments, as given. */
    public List<String> command;
    /** The stage it ran in. */
    public String type;
    /** Standard output, capped. */
    public String stdout;
    /** Standard error, capped. */
    public String stderr;
    /** Why it failed: refused, timed out, non-zero exit. Absent on success. */
    public String error;
}
