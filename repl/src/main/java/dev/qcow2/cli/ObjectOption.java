package dev.qcow2.cli;

import dev.qcow2.crypto.SecretObjects;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --object secret,id=ID,data=…|file=…[,format=raw|base64][,keyid=ID2,iv=…]}, repeatable:
 * qemu-img's secret objects, which {@code encrypt.key-secret=ID} in image options
 * ({@link ImageOptsOption}) or in create/amend {@code -o} names. Parsed once, in order, by
 * {@link SecretObjectParser}; {@code --object help} prints the types and ends the command (exit 0).
 * The definitions (which may hold a passphrase) are never printed.
 */
final class ObjectOption implements AutoCloseable {
    @Option(names = "--object", paramLabel = "OBJECTDEF", descriptionKey = "object",
            description = {"A secret for encrypted images, as in qemu-img:", "secret,id=ID,data=STRING|file=PATH[,format=base64]",
                    "(repeatable; named by encrypt.key-secret=ID; 'help' lists the types)."})
    List<String> definitions = new ArrayList<>();

    private SecretObjects parsed;

    /** The secret objects by id (parsed on first use; qemu's message for a bad definition). */
    SecretObjects secrets() {
        if (parsed == null) parsed = definitions.isEmpty() ? SecretObjects.none() : SecretObjectParser.parse(definitions);
        return parsed;
    }

    /** Zeroes the secrets (the command has finished with them). */
    @Override
    public void close() {
        if (parsed != null) parsed.close();
    }

    /**
     * What {@code --object help} (or {@code TYPE,help}) prints when {@code args} ask for it, else
     * null. qemu-img handles it while reading its options, before it misses an operand, so this
     * looks at the command line before picocli does: only the {@code --object} values up to the
     * first that does not parse, of a subcommand that has the option.
     */
    static String helpRequested(String[] args) {
        if (args.length == 0 || !Main.SUBCOMMANDS.contains(args[0]) || List.of("run", "repl", "jshell", "undo", "help").contains(args[0])) {
            return null;
        }
        for (int i = 1; i < args.length; i++) {
            String value = null;
            if (args[i].equals("--")) return null;
            if (args[i].equals("--object") && i + 1 < args.length) value = args[++i];
            else if (args[i].startsWith("--object=")) value = args[i].substring("--object=".length());
            if (value == null || value.startsWith("{")) continue;
            try {
                KeyValSyntax.Parsed parsed = KeyValSyntax.parse(value, "qom-type");
                if (parsed.help()) return SecretObjectParser.helpText(parsed.tree());
            } catch (RuntimeException e) {
                return null;             // reported by the command, in order
            }
        }
        return null;
    }

    /** The image operand {@code operand}: options when {@code imageOpts} is on, else a file name (or {@code json:} name) with {@code format}. */
    ImageArg image(String operand, String format, ImageOptsOption imageOpts, PrintWriter err) {
        SecretObjects objects = secrets();
        return imageOpts != null && imageOpts.on ? ImageArg.ofImageOpts(operand, format, objects, err)
                : ImageArg.of(operand, format, objects);
    }
}
