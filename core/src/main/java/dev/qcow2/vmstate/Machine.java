package dev.qcow2.vmstate;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The x86 machine families whose RAM layout is known: i440fx ({@code pc}) and {@code q35}. */
public enum Machine {
    PC, Q35;

    private static final Pattern VERSION = Pattern.compile("^pc-(?:i440fx-)?(\\d+)\\.(\\d+)");

    /** The family of a machine type as the configuration section names it ("pc-i440fx-7.2", "pc-q35-7.2"), or null. */
    public static Machine of(String machineType) {
        if (machineType == null) return null;
        String t = machineType.toLowerCase(Locale.ROOT);
        if (t.equals("q35") || t.startsWith("pc-q35")) return Q35;
        if (t.equals("pc") || t.startsWith("pc-i440fx") || VERSION.matcher(t).find()) return PC;
        return null;
    }

    /** The --machine value ("pc", "q35", or a full machine type). */
    public static Machine parse(String name) {
        Machine m = of(name);
        if (m == null) throw new IllegalArgumentException("unknown machine '" + name + "' (expected pc or q35)");
        return m;
    }

    /**
     * Whether an i440fx machine type aligns the RAM below 4 GiB to 3 GiB (PCMachineClass
     * gigabyte_align): every type but those up to 1.7 (pc_compat_1_7 turns it off).
     */
    static boolean gigabyteAlign(String machineType) {
        if (machineType == null) return true;
        Matcher m = VERSION.matcher(machineType.toLowerCase(Locale.ROOT));
        if (!m.find()) return true;
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        return major > 1 || (major == 1 && minor > 7);
    }

    public String cliName() { return name().toLowerCase(Locale.ROOT); }
}
