package io.kdiag.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import io.kdiag.common.kafka.KafkaAcls;
import io.kdiag.common.kafka.KafkaAcls.Role;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.errors.SecurityDisabledException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code kdiag acls [--apply]}: the Kafka ACLs of this installation ({@link KafkaAcls}: one user per role, each allowed
 * what its component does and nothing else), printed, or made the broker's through the Admin API.
 */
@Command(name = "acls", mixinStandardHelpOptions = true,
        description = {"Print the Kafka ACLs of this installation's topic prefix: one user per role, each allowed exactly what "
                + "its component does (docs/security.md). With --apply, make them the broker's: the missing ones are created and "
                + "every other grant (ALLOW) of the same users is deleted; DENY entries stay. Applying needs a broker with an "
                + "authorizer and a login allowed to alter the cluster's ACLs."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:printed, or applied", "1:Kafka refused or cannot be reached; a broker without an authorizer", "2:invalid usage"})
final class AclsCommand implements Callable<Integer> {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @ParentCommand
    KdiagCommand kdiag;

    @Spec
    CommandSpec spec;

    @Option(names = "--apply", description = "Create the missing ACLs and delete the other grants of these users (Admin API).")
    boolean apply;

    @Option(names = "--user", paramLabel = "ROLE=NAME",
            description = "The Kafka user of a role, repeatable; roles: source-bridge, log-source, node-agent, status-writer, "
                    + "reader, ingest, cli, approver (default: kdiag-ROLE, as the manifests name them).")
    Map<String, String> users = new LinkedHashMap<>();

    @Override
    public Integer call() {
        String prefix = kdiag.topicPrefix();
        List<AclBinding> bindings = new KafkaAcls(prefix).bindings(principals());
        PrintWriter out = spec.commandLine().getOut();
        if (!apply) {
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"PRINCIPAL", "PERMISSION", "OPERATION", "RESOURCE", "PATTERN", "NAME"});
            rows.addAll(KafkaAcls.rows(bindings));
            out.print(StatusPrinter.columns(rows));
            return 0;
        }
        KdiagCommand.Connection connection = kdiag.connection();
        KafkaAcls.Applied applied;
        Map<String, Object> settings = new HashMap<>(connection.kafka());
        // Admin refuses a request timeout longer than the CLI's short default.api.timeout.ms
        settings.putIfAbsent(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, settings.get(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG));
        try (Admin admin = Admin.create(settings)) {
            applied = KafkaAcls.apply(admin, bindings, TIMEOUT);
        } catch (IllegalStateException e) {
            if (e.getCause() instanceof SecurityDisabledException) {
                throw new IllegalStateException("the broker at " + connection.kafka().get("bootstrap.servers") + " has no authorizer "
                        + "(authorizer.class.name is not set), so it enforces no ACL and none was applied; the embedded broker "
                        + "of 'kdiag up' is such a broker, reachable from this machine only", e);
            }
            throw e;
        }
        for (String line : KafkaAcls.format(applied.created()).lines().toList()) {
            out.println("acl \"" + line + "\" created");
        }
        for (String line : KafkaAcls.format(applied.deleted()).lines().toList()) {
            out.println("acl \"" + line + "\" deleted");
        }
        out.printf("%d created, %d deleted, %d unchanged (prefix %s)%n", applied.created().size(), applied.deleted().size(),
                bindings.size() - applied.created().size(), prefix);
        return 0;
    }

    /** Every role's principal: its {@code --user}, else its default user. */
    private Map<Role, String> principals() {
        Map<String, Role> byName = new LinkedHashMap<>();
        for (Role role : Role.values()) {
            byName.put(roleName(role), role);
        }
        Map<Role, String> principals = new EnumMap<>(Role.class);
        Arrays.stream(Role.values()).forEach(role -> principals.put(role, role.defaultPrincipal()));
        users.forEach((name, user) -> {
            Role role = byName.get(name);
            if (role == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "unknown role " + name + "; one of " + byName.keySet());
            }
            if (user.isBlank()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--user " + name + "= names no user");
            }
            principals.put(role, "User:" + user);
        });
        return principals;
    }

    /** {@code source-bridge} for {@link Role#SOURCE_BRIDGE}: the default user without {@code kdiag-}. */
    private static String roleName(Role role) {
        return role.defaultUser().substring("kdiag-".length());
    }
}
