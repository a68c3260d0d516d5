package dev.qcow2.cli;

import dev.qcow2.format.BitmapDirectoryEntry;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.write.Qcow2Writer;
import dev.qcow2.write.WriteOptions;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code convert --bitmaps}: qemu-img's convert_check_bitmaps before anything is written (an
 * in-use bitmap stops the convert unless --skip-broken-bitmaps), then convert_copy_bitmaps
 * into the new image: each bitmap added with the source's name, granularity and enabled state,
 * and its dirty ranges merged in.
 */
final class BitmapCopy {
    /** A source bitmap; {@code skip} for an inconsistent one under --skip-broken-bitmaps. */
    record Source(BitmapDirectoryEntry entry, boolean skip) {
        String name() { return entry.name(); }
    }

    private BitmapCopy() { }

    static List<Source> check(BlockDevice image, boolean skipBroken, boolean qcow2Target, List<String> options) throws IOException {
        if (!(image instanceof Qcow2Image q)) throw new Errors.CliException("Source lacks bitmap support");
        if (!qcow2Target) throw new Errors.CliException("Format driver 'raw' does not support bitmaps");
        for (String o : options) {
            for (String part : o.split(",")) {
                if (part.equals("compat=0.10") || part.equals("compat=v2")) {
                    throw new Errors.CliException("Format driver 'qcow2' does not support bitmaps");
                }
            }
        }
        List<Source> out = new ArrayList<>();
        for (BitmapDirectoryEntry e : q.bitmaps()) {
            if (e.inUse() && !skipBroken) {
                throw new Errors.CliException("Cannot copy inconsistent bitmap '" + e.name()
                        + "'; try --skip-broken-bitmaps, or use 'qcow2 bitmap --remove' to delete it");
            }
            out.add(new Source(e, e.inUse()));
        }
        return out;
    }

    static void copy(Qcow2Image source, List<Source> bitmaps, Path target) throws IOException {
        if (bitmaps.stream().allMatch(Source::skip)) return;
        try (Qcow2Writer w = Qcow2Writer.open(target, WriteOptions.defaults())) {
            for (Source s : bitmaps) {
                if (s.skip()) continue;
                BitmapDirectoryEntry e = s.entry();
                w.bitmaps().add(e.name(), e.granularity(), e.auto());
                w.bitmaps().mergeRanges(e.name(), source.bitmap(e).dirtyRanges());
            }
        }
    }
}
