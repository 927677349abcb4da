package io.kdiag.nodeagent.policy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy in force: the defaults (deny by default), or the policy file re-read whenever its content changes. A ConfigMap mounted as
 * a volume is updated by swapping a symlink, so the content is compared rather than the modification time. A new
 * file that cannot be read or is invalid keeps the previous policy, and the reason is logged.
 */
public final class PolicyHolder implements Supplier<Policy> {
    private static final Logger LOG = LoggerFactory.getLogger(PolicyHolder.class);

    private final Path file;
    private volatile Policy current;
    private byte[] loaded;

    private PolicyHolder(Path file, Policy initial, byte[] loaded) {
        this.file = file;
        this.current = initial;
        this.loaded = loaded;
    }

    /** A policy that never changes (the defaults, without a policy file); nothing to reload. */
    public static PolicyHolder fixed(Policy policy) {
        return new PolicyHolder(null, policy, null);
    }

    /**
     * The policy of {@code file}.
     *
     * @throws IllegalArgumentException if the file cannot be read or is invalid: the agent must not start on a policy
     *         other than the one its operator wrote
     */
    public static PolicyHolder of(Path file) {
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the policy file " + file + ": " + e.getMessage(), e);
        }
        try {
            return new PolicyHolder(file, Policy.parse(new String(content, StandardCharsets.UTF_8), file.toString()), content);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid policy file " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Policy get() {
        return current;
    }

    /** Re-reads the file if its content changed; {@code true} when a new policy is now in force. */
    public synchronized boolean reloadIfChanged() {
        if (file == null) {
            return false;
        }
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (IOException e) {
            LOG.warn("policy file unreadable, keeping the previous policy file={} reason={}", file, e.toString());
            return false;
        }
        if (Arrays.equals(content, loaded)) {
            return false;
        }
        loaded = content;
        try {
            current = Policy.parse(new String(content, StandardCharsets.UTF_8), file.toString());
        } catch (IllegalArgumentException e) {
            LOG.warn("policy file invalid, keeping the previous policy file={} reason={}", file, e.getMessage());
            return false;
        }
        LOG.info("policy reloaded file={}", file);
        return true;
    }
}
