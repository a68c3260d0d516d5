package dev.qcow2.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.util.ListResourceBundle;
import java.util.ResourceBundle;

/**
 * The help texts of the shared options ({@link FormatOption}, {@link ForceShareOption},
 * {@link OutputOption}, {@link QuietOption}, {@link ProgressOption}, {@link CacheOption}) where
 * a command says more than the mixin's own text: picocli looks an option's description up under
 * {@code qcow2.COMMAND.KEY} first (its Messages; the key is the option's descriptionKey) and
 * falls back to the annotation's. Built in code, not a .properties file, and handed to a
 * command only when its usage is rendered ({@link HelpFactory}): no start-up cost otherwise.
 */
final class OptionTexts extends ListResourceBundle {
    /** picocli's help factory, giving the command these texts just before its usage is rendered. */
    static final class HelpFactory implements CommandLine.IHelpFactory {
        @Override
        public CommandLine.Help create(CommandSpec spec, CommandLine.Help.ColorScheme colorScheme) {
            if (spec.resourceBundle() == null) spec.resourceBundle(bundle());
            return new CommandLine.Help(spec, colorScheme);
        }
    }

    /**
     * A new bundle, typed as its superclass: the verifier of {@link HelpFactory} then needs
     * neither this class nor ListResourceBundle, so a command that prints no usage loads neither.
     */
    static ResourceBundle bundle() { return new OptionTexts(); }

    @Override
    protected Object[][] getContents() {
        return new Object[][]{
                {"qcow2.amend.format", "Image format (only qcow2)."},
                {"qcow2.amend.quiet", "Quiet (no progress)."},
                {"qcow2.amend.cache", "Accepted for qemu-img compatibility; writes are always flushed."},
                {"qcow2.bench.cache", "Cache mode: none, writeback (default), unsafe, directsync, writethrough."},
                {"qcow2.scan.output", "Output format (default human): a table and a summary line, or one JSON record (type image-scan) per line."},
                {"qcow2.hash.output", "Output format (default human, as sha256sum prints). JSON: one object of type image-hash."},
                {"qcow2.check.output", "Output format (default human). JSON is qemu-img's ImageCheck plus a findings array."},
                {"qcow2.carve.output", "Output format (default human): a table of runs. JSON: the manifest (offset, length, status, kind, evidence, sha256, file per run)."},
                {"qcow2.rescue.output", "Output format (default human). JSON: structures with evidence, clusters placed per method, clusters left over."},
                {"qcow2.check.format", "Image format: qcow2 (raw has no check)."},
                {"qcow2.check.force-share", "Read even while another process holds the image for writing (without -U: refused, as qemu-img)."},
                {"qcow2.commit.format", "Image format (qcow2; raw images have no backing file)."},
                {"qcow2.commit.quiet", "Print nothing on success."},
                {"qcow2.compare.quiet", "Print nothing; only the exit status tells."},
                {"qcow2.compare.progress", "Accepted for qemu-img compatibility."},
                {"qcow2.convert.progress", "Show progress (on stderr when writing to stdout)."},
                {"qcow2.convert.quiet", "Quiet: no progress."},
                {"qcow2.create.quiet", "Quiet: no \"Formatting\" line."},
                {"qcow2.info.force-share", "Read even while another process holds the image for writing (without -U: refused, as qemu-img)."},
                {"qcow2.map.force-share", "Read even while another process holds the image for writing (without -U: refused, as qemu-img)."},
                {"qcow2.compare.force-share", "Read even while another process holds the image for writing (without -U: refused, as qemu-img)."},
                {"qcow2.convert.force-share", "Read even while another process holds the image for writing (without -U: refused, as qemu-img)."},
                {"qcow2.measure.force-share", "Read even while another process holds the image for writing (without -U: refused, as qemu-img)."},
                {"qcow2.io.format", "Image format (only qcow2 can be written)."},
                {"qcow2.rebase.format", "Image format (only qcow2 can change its backing file)."},
                {"qcow2.resize.format", "Image format (only qcow2)."},
                {"qcow2.resize.quiet", "Print nothing on success."},
                {"qcow2.snapshot.format", "Image format (only qcow2 has snapshots)."},
                {"qcow2.snapshot.force-share", "Read even while another process holds the image for writing (list only)."},
                {"qcow2.snapshot.quiet", "Quiet mode."},
                {"qcow2.vmstate.output", "Summary format when no OUT is given (default human)."},
                {"qcow2.vmstate.force-share", "Read even while another process holds the image for writing (without -U: refused, as qemu-img)."},
        };
    }
}
