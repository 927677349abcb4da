package io.kdiag.stageworkers.builtin;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.CommandResult;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code systemd-collector}: the properties of systemd units, from {@code systemctl show --no-pager [unit]} for each
 * name of {@code systemdUnitNameInformationContextKey} (a list, or a comma-separated string as the original's GET
 * form took it; {@code ""} is the manager itself). An agent in a container (host root other than {@code /}) runs it
 * through {@code nsenter -t 1 -m -u -i -n -p --} to reach the host's systemd. Output
 * {@code systemdUnitPropertyInformationContextKey = [{name, properties: [{name, value}]}]}; a unit whose command
 * fails is skipped and named in {@code systemdUnitErrors = [{name, error}]}; if every unit fails the worker fails
 * ({@code SystemdUnavailable}).
 */
public final class SystemdCollector implements StageWorker {
    private static final int CALL_TIMEOUT_SECONDS = 60;
    /** The context key of the input unit names. */
    public static final String UNIT_NAMES = "systemdUnitNameInformationContextKey";
    /** The context key of the output. */
    public static final String UNIT_PROPERTIES = "systemdUnitPropertyInformationContextKey";
    /** The context key of the units that could not be read. */
    public static final String UNIT_ERRORS = "systemdUnitErrors";
    private static final int TIMEOUT_SECONDS = 10;
    private static final int MAX_OUTPUT_BYTES = 1024 * 1024;
    private static final List<String> NSENTER = List.of("nsenter", "-t", "1", "-m", "-u", "-i", "-n", "-p", "--");
    private static final Logger LOG = LoggerFactory.getLogger(SystemdCollector.class);

    private final CommandRunner runner;

    /** The collector, as the service loader creates it. */
    public SystemdCollector() {
        this(CommandRunner.allowing(Set.of("systemctl", "nsenter"), MAX_OUTPUT_BYTES));
    }

    SystemdCollector(CommandRunner runner) {
        this.runner = runner;
    }

    @Override
    public String name() {
        return "systemd-collector";
    }

    @Override
    public Stage stage() {
        return Stage.InformationCollection;
    }

    /** {@value #CALL_TIMEOUT_SECONDS} s, the timeoutSeconds of KubeDiag v0.1.6's registration of this built-in. */
    @Override
    public Duration timeout() {
        return Duration.ofSeconds(CALL_TIMEOUT_SECONDS);
    }

    @Override
    public WorkResult run(WorkContext ctx) throws InterruptedException {
        List<String> units;
        try {
            units = unitNames(Inputs.required(ctx, UNIT_NAMES));
        } catch (Inputs.InputException e) {
            return WorkResult.failed(e.reason(), e.getMessage());
        }
        boolean inContainer = !ctx.host().resolve("/").equals(Path.of("/"));
        List<Map<String, Object>> collected = new ArrayList<>();
        List<Map<String, Object>> errors = new ArrayList<>();
        for (String unit : units) {
            List<String> command = new ArrayList<>(inContainer ? NSENTER : List.of());
            command.addAll(List.of("systemctl", "show", "--no-pager"));
            if (!unit.isEmpty()) {
                command.add(unit);
            }
            CommandResult result = runner.run(command, TIMEOUT_SECONDS);
            String failure = CommandRunner.failure(result);
            if (failure != null) {
                LOG.warn("skipping systemd unit unit={} error={}", unit, failure);
                Map<String, Object> error = new LinkedHashMap<>();
                error.put("name", unit);
                error.put("error", failure);
                errors.add(error);
                continue;
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", unit);
            entry.put("properties", properties(result.stdout()));
            collected.add(entry);
        }
        if (collected.isEmpty() && !errors.isEmpty()) {
            return WorkResult.failed("SystemdUnavailable", "systemctl show failed for every unit: " + errors);
        }
        Map<String, Object> updates = new LinkedHashMap<>();
        updates.put(UNIT_PROPERTIES, collected);
        if (!errors.isEmpty()) {
            updates.put(UNIT_ERRORS, errors);
        }
        return WorkResult.succeeded(updates, Set.of());
    }

    private static List<String> unitNames(Object value) throws Inputs.InputException {
        List<String> names = new ArrayList<>();
        if (value instanceof String s) {
            names.addAll(Arrays.asList(s.split(",", -1)));
        } else {
            for (Object name : Inputs.list(value, UNIT_NAMES)) {
                if (!(name instanceof String s)) {
                    throw new Inputs.InputException("InvalidInput", UNIT_NAMES + " must list unit names, not " + name);
                }
                names.add(s);
            }
        }
        names.replaceAll(String::strip);
        for (String name : names) {
            // a name is passed as one argument without a shell; an option-looking name would change the command
            if (name.startsWith("-")) {
                throw new Inputs.InputException("InvalidInput", "not a systemd unit name: " + name);
            }
        }
        return names.stream().distinct().toList();
    }

    /** {@code K=V} lines; a value may itself contain {@code =}. */
    static List<Map<String, Object>> properties(String output) {
        List<Map<String, Object>> properties = new ArrayList<>();
        for (String line : output.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                Map<String, Object> property = new LinkedHashMap<>();
                property.put("name", line.substring(0, eq));
                property.put("value", line.substring(eq + 1));
                properties.add(property);
            }
        }
        return properties;
    }
}
