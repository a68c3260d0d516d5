package dev.qcow2.cli;

import com.fasterxml.jackson.databind.SerializationFeature;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.view.HeaderViews;
import dev.qcow2.view.JsonShape;
import dev.qcow2.view.MappingViews;
import dev.qcow2.view.RefcountViews;
import dev.qcow2.view.SnapshotViews;
import dev.qcow2.view.TextRender;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code qcow2 dump WHAT FILE}: the raw on-disk structures with decoded fields, for
 * investigation. Each structure is a view built by the core ({@code dev.qcow2.view}), the same
 * the DSL shows ({@code walk l2}, {@code refcounts}, {@code header}, …): human output is its
 * aligned text (offsets and raw words in hex), JSON its records with a {@code type} and plain
 * numbers. The image is opened as check opens it (a damaged image still opens) without
 * following its backing or data file.
 */
@Command(name = "dump", addMethodSubcommands = false, mixinStandardHelpOptions = true,
        description = "Print raw qcow2 structures with decoded fields: header, extensions, features, l1, l2, "
                + "refcount-table, refcounts, snapshots, bitmaps.")
final class DumpCommand implements Callable<Integer> {
    enum What { header, extensions, features, l1, l2, refcount_table, refcounts, snapshots, bitmaps }

    @Parameters(index = "0", paramLabel = "WHAT",
            description = "header|extensions|features|l1|l2|refcount-table|refcounts|snapshots|bitmaps")
    String what;

    @Parameters(index = "1", paramLabel = "FILE", description = "The qcow2 image.")
    String file;

    @Spec CommandSpec spec;

    @Mixin ObjectOption objects;

    @Mixin ImageOptsOption imageOpts;

    @Mixin OutputOption output;

    @Option(names = "--snapshot", paramLabel = "S", description = "l1/l2: use this snapshot's L1 table (ID or name).")
    String snapshot;

    @Option(names = "--l1-index", paramLabel = "N", description = "l2: only the L2 table of L1 entry N.")
    Integer l1Index;

    /**
     * Opened as qemu-img check opens (BDRV_O_CHECK), following neither backing nor data file, and
     * tolerant: dump shows the structures of a header that contradicts itself (qemu-img refuses
     * to open it), naming each contradiction on stderr.
     */
    private static final OpenOptions INSPECT = new OpenOptions(false, false, 0, null, true).withTolerant(true);

    @Override
    public Integer call() throws Exception {
        What w;
        try {
            w = What.valueOf(what.replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new Errors.CliException("dump: unknown structure '" + what
                    + "' (header, extensions, features, l1, l2, refcount-table, refcounts, snapshots, bitmaps)");
        }
        ImageArg image = objects.image(file, null, imageOpts, spec.commandLine().getErr());
        ImageOpener.format(image.file(), "qcow2");
        try (Qcow2Image img = (Qcow2Image) ImageOpener.open(image, INSPECT)) {
            TolerantOption.reportIgnored(img, spec.commandLine().getErr());
            Object view = switch (w) {
                case header -> HeaderViews.header(img);
                case extensions -> HeaderViews.extensions(img);
                case features -> HeaderViews.features(img);
                case l1 -> MappingViews.l1(state(img));
                case l2 -> MappingViews.l2(state(img), new MappingViews.L2Selection(l1Index, false));
                case refcount_table -> RefcountViews.reftable(img);
                case refcounts -> RefcountViews.refcounts(img);
                case snapshots -> SnapshotViews.snapshots(img);
                case bitmaps -> SnapshotViews.bitmaps(img);
            };
            PrintWriter out = spec.commandLine().getOut();
            if (output.json()) {
                out.println(QemuJson.mapper().copy().enable(SerializationFeature.INDENT_OUTPUT)
                        .writeValueAsString(JsonShape.of(view)));
            } else {
                out.print(TextRender.of(view));
            }
            out.flush();
        }
        return 0;
    }

    private MappingViews.State state(Qcow2Image img) throws java.io.IOException {
        if (snapshot == null) return MappingViews.State.active(img);
        return new MappingViews.State(img, img.findSnapshot(snapshot)
                .orElseThrow(() -> new Errors.CliException(img.describe() + ": snapshot '" + snapshot + "' not found")));
    }
}
