package dev.qcow2.cli;

import dev.qcow2.scan.ImageScan;
import dev.qcow2.scan.ScanOptions;
import dev.qcow2.view.JsonShape;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code qcow2 hash}: digests of one image's guest content (the bytes {@code qemu-img convert -O raw}
 * writes, through the backing chain), the same values {@code qcow2 scan --hash} records. One
 * algorithm prints as {@code sha256sum} does ({@code HEX  FILE}), several in its {@code --tag}
 * form ({@code SHA256 (FILE) = HEX}).
 */
@Command(name = "hash", addMethodSubcommands = false, mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Digest an image's guest content (what qemu-img convert -O raw writes; sha256sum of that export gives the same value).",
                "Read-only; the same digests as qcow2 scan --hash."})
final class HashCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin OutputOption output;

    @Mixin AllowBackingOption allow;

    @Option(names = {"-a", "--algo"}, paramLabel = "ALGO[,ALGO...]", description = "sha256 (default), sha1, md5, sha512; several in one pass.")
    String algo = "sha256";

    @Option(names = {"-l", "--snapshot"}, paramLabel = "SNAPSHOT", description = "Digest this internal snapshot (id or name) instead of the active state.")
    String snapshot;

    @Parameters(index = "0", paramLabel = "FILE", description = "The image.")
    String file;

    @Override
    public Integer call() throws IOException {
        List<String> algorithms;
        try {
            algorithms = ScanOptions.parseAlgorithms(algo);
        } catch (IllegalArgumentException e) {
            throw new Errors.CliException("--algo: " + e.getMessage());
        }
        Map<String, String> hashes = ImageScan.hash(Path.of(file), snapshot, algorithms, allow.policy());
        PrintWriter out = spec.commandLine().getOut();
        if (output.json()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put(JsonShape.TYPE, "image-hash");
            m.put("path", file);
            m.put("snapshot", snapshot);
            m.put("hashes", hashes);
            out.println(dev.qcow2.scan.JsonLine.of(m));
        } else if (hashes.size() == 1) {
            out.println(hashes.values().iterator().next() + "  " + file);
        } else {
            hashes.forEach((a, hex) -> out.println(a.toUpperCase(Locale.ROOT) + " (" + file + ") = " + hex));
        }
        out.flush();
        return 0;
    }
}
