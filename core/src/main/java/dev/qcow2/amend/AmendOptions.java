package dev.qcow2.amend;

import dev.qcow2.create.OptionList;
import dev.qcow2.create.SizeParser;

import java.util.List;
import java.util.Map;

/**
 * The {@code -o} options of {@code qemu-img amend} for qcow2 (QEMU 7.2's qcow2_amend_opts:
 * the LUKS keyslot options, then size, compat, backing_file, backing_fmt, data_file,
 * data_file_raw, lazy_refcounts, refcount_bits). Only options that were given are set (null
 * otherwise): amend changes nothing it was not asked to. Parsing fails like qemu_opts_do_parse,
 * at the first bad option in the order typed.
 */
public record AmendOptions(boolean encrypt, Long size, String compat, String backingFile, String backingFmt,
                           String dataFile, Boolean dataFileRaw, Boolean lazyRefcounts, Long refcountBits,
                           dev.qcow2.crypto.KeySlotChange keySlots) {

    /** qemu-img's {@code amend -o help} text for qcow2. */
    public static final String HELP = String.join("\n",
            "Amend options for 'qcow2':",
            "  backing_file=<str>     - File name of a base image",
            "  backing_fmt=<str>      - Image format of the base image",
            "  compat=<str>           - Compatibility level (v2 [0.10] or v3 [1.1])",
            "  data_file=<str>        - File name of an external data file",
            "  data_file_raw=<bool (on/off)> - The external data file must stay valid as a raw image",
            "  encrypt.iter-time=<num> - Time to spend in PBKDF in milliseconds",
            "  encrypt.keyslot=<num>  - Select a single keyslot to modify explicitly",
            "  encrypt.new-secret=<str> - New secret to set in the matching keyslots. Empty string to erase",
            "  encrypt.old-secret=<str> - Select all keyslots that match this password",
            "  encrypt.state=<str>    - Select new state of affected keyslots (active/inactive)",
            "  lazy_refcounts=<bool (on/off)> - Postpone refcount updates",
            "  refcount_bits=<num>    - Width of a reference count entry in bits",
            "  size=<size>            - Virtual disk size");

    private static final List<String> ENCRYPT_STRINGS = List.of("encrypt.state", "encrypt.old-secret", "encrypt.new-secret");
    private static final List<String> ENCRYPT_NUMBERS = List.of("encrypt.keyslot", "encrypt.iter-time");

    /** A bad option; {@code hint} is qemu-img's second line, or null. */
    public static final class OptionException extends IllegalArgumentException {
        private final String hint;

        OptionException(String message, String hint) {
            super(message);
            this.hint = hint;
        }

        public String hint() { return hint; }
    }

    /** Whether any {@code -o} argument asks for help ({@code help} or {@code ?}), as qemu-img's has_help_option. */
    public static boolean wantsHelp(List<String> texts) {
        for (String t : texts) {
            for (Map.Entry<String, String> kv : OptionList.split(t)) {
                if (kv.getKey().equals("help") || kv.getKey().equals("?")) return true;
            }
        }
        return false;
    }

    /** Parses the {@code -o} arguments (several are joined with commas, as qemu-img does). */
    public static AmendOptions parse(List<String> texts) {
        String joined = String.join(",", texts);
        boolean encrypt = false;
        Long size = null, refcountBits = null;
        String compat = null, backingFile = null, backingFmt = null, dataFile = null;
        Boolean dataFileRaw = null, lazy = null;
        Boolean state = null;
        String newSecret = null, oldSecret = null;
        Integer keyslot = null;
        Long iterTime = null;
        for (Map.Entry<String, String> kv : OptionList.split(joined)) {
            String k = kv.getKey();
            String v = kv.getValue();
            switch (k) {
                case "size" -> size = SizeParser.parseOption(k, v);
                case "compat" -> compat = v;
                case "backing_file" -> backingFile = v;
                case "backing_fmt" -> backingFmt = v;
                case "data_file" -> dataFile = v;
                case "data_file_raw" -> dataFileRaw = OptionList.parseBool(k, v);
                case "lazy_refcounts" -> lazy = OptionList.parseBool(k, v);
                case "refcount_bits" -> refcountBits = OptionList.parseNumber(k, v);
                case "encrypt.state" -> {
                    encrypt = true;
                    state = switch (v) {
                        case "active" -> true;
                        case "inactive" -> false;
                        default -> throw new OptionException("Parameter 'state' does not accept value '" + v + "'", null);
                    };
                }
                case "encrypt.new-secret" -> { encrypt = true; newSecret = v; }
                case "encrypt.old-secret" -> { encrypt = true; oldSecret = v; }
                case "encrypt.keyslot" -> { encrypt = true; keyslot = (int) Math.min(Integer.MAX_VALUE, OptionList.parseNumber(k, v)); }
                case "encrypt.iter-time" -> { encrypt = true; iterTime = OptionList.parseNumber(k, v); }
                default -> {
                    {
                        throw new OptionException("Invalid parameter '" + k + "'",
                                parsesForCreate(joined) ? "This option is only supported for image creation" : null);
                    }
                }
            }
        }
        return new AmendOptions(encrypt, size, compat, backingFile, backingFmt, dataFile, dataFileRaw, lazy, refcountBits,
                encrypt ? new dev.qcow2.crypto.KeySlotChange(state, newSecret, oldSecret, keyslot, iterTime) : null);
    }

    /** qemu-img's retry with the create options added: does the whole list parse then? */
    private static boolean parsesForCreate(String joined) {
        for (Map.Entry<String, String> kv : OptionList.split(joined)) {
            String k = kv.getKey();
            if (ENCRYPT_STRINGS.contains(k) || ENCRYPT_NUMBERS.contains(k)) continue;
            // qemu-img retries with the format's create options only, not the protocol's (file-posix).
            if (k.equals("nocow") || k.equals("extent_size_hint")) return false;
            try {
                new OptionList().set(k, kv.getValue());
            } catch (IllegalArgumentException e) {
                return false;
            }
        }
        return true;
    }
}
