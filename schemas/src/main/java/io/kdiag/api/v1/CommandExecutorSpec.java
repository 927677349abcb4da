package io.kdiag.api.v1;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A command to run on the node, allowed only if the policy grants it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CommandExecutorSpec {
    /** Executable and arguments; no shell is involved. */
    public List<String> command;
    /** The stage it runs in: {@code InformationCollector}, {@code Diagnoser} or {@code Recoverer}. */
    public String type;
    /** Seconds before the command's whole process group is killed; default 30. */
    public Integer timeoutSeconds;
}
