package dev.qcow2.cli;

import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.snapshot.SnapshotNotFoundException;
import dev.qcow2.snapshot.Snapshots;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code qcow2 snapshot}: qemu-img 7.2's internal snapshot command. One action per call:
 * {@code -l} lists (read-only), {@code -c} creates, {@code -a} applies (by ID, else name),
 * {@code -d} deletes (by name, as qemu-img's bdrv_snapshot_find). No action does nothing.
 */
@Command(name = "snapshot", addMethodSubcommands = false, mixinStandardHelpOptions = true,
        description = "List, create, apply or delete internal snapshots of a qcow2 image.")
final class SnapshotCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin FormatOption format;

    @Option(names = {"-l", "--list"}, description = "List the snapshots.")
    boolean list;

    @Option(names = {"-c", "--create"}, paramLabel = "SNAPSHOT", description = "Create a snapshot of the current state.")
    String create;

    @Option(names = {"-a", "--apply"}, paramLabel = "SNAPSHOT", description = "Revert the disk to a snapshot (ID or name).")
    String apply;

    @Option(names = {"-d", "--delete"}, paramLabel = "SNAPSHOT", description = "Delete a snapshot (by name).")
    String delete;

    @Mixin ForceShareOption forceShare;

    @Mixin QuietOption quiet;

    @Mixin ObjectOption objects;

    @Mixin ImageOptsOption imageOpts;

    @Parameters(paramLabel = "FILE", description = "The image.")
    String file;

    @Override
    public Integer call() throws Exception {
        int actions = (list ? 1 : 0) + (create != null ? 1 : 0) + (apply != null ? 1 : 0) + (delete != null ? 1 : 0);
        if (actions > 1) throw new Errors.CliException("Cannot mix '-l', '-a', '-c', '-d'");
        if (forceShare.on && actions == 1 && !list) {
            throw new Errors.CliException("Could not open '" + file + "': force-share=on can only be used with read-only images");
        }
        ImageArg image = objects.image(this.file, format.value, imageOpts, spec.commandLine().getErr());
        String file = image.file();
        String fmt = ImageOpener.format(image);
        if (list) {
            forceShare.refuseBesideWriter(image);
            if (fmt.equals("qcow2")) spec.commandLine().getOut().print(listing(image));
            return 0;
        }
        if (actions == 0) return 0;
        String action = create != null ? "create" : apply != null ? "apply" : "delete";
        String name = create != null ? create : apply != null ? apply : delete;
        if (!fmt.equals("qcow2")) {
            throw new Errors.CliException("Could not " + action + " snapshot '" + name + "': " + file
                    + ": internal snapshots need a qcow2 image, not " + fmt);
        }
        // the snapshot operations touch no guest data, so they need no key; like qemu-img, a key
        // given for the image must still unlock it
        if (image.hasSecrets()) ImageOpener.open(image, OpenOptions.defaults()).close();
        // an image the open refuses (a contradictory header, corrupt, dirty) is an open error, as
        // qemu-img's "Could not open": only what the operation itself fails at names the snapshot
        Snapshots opened = Snapshots.open(Path.of(file), image.lookup());
        try (Snapshots snapshots = opened) {
            switch (action) {
                case "create" -> snapshots.create(create, Instant.now());
                case "apply" -> snapshots.apply(apply);
                default -> snapshots.delete(idByName(snapshots.list(), delete));
            }
        } catch (SnapshotNotFoundException e) {
            throw new Errors.CliException(action.equals("apply")
                    ? "Could not apply snapshot '" + name + "': Failed to load snapshot: No such file or directory"
                    : "Could not delete snapshot '" + name + "': snapshot not found");
        } catch (IOException e) {
            throw new Errors.CliException("Could not " + action + " snapshot '" + name + "': " + Errors.describe(e));
        }
        return 0;
    }

    /** qemu-img 7.2's -d finds the first snapshot with that name; then deletes it by its ID. */
    private String idByName(List<SnapshotEntry> entries, String name) throws SnapshotNotFoundException {
        for (SnapshotEntry e : entries) if (e.name().equals(name)) return e.id();
        throw new SnapshotNotFoundException(file, name);
    }

    /** bdrv_snapshot_dump's table as qemu-img 7.2 prints it; nothing when there are no snapshots. */
    @SuppressWarnings("unchecked")
    static String listing(ImageArg image) throws IOException {
        List<SnapshotEntry> snaps;
        try (Qcow2Image img = (Qcow2Image) ImageOpener.open(image, OpenOptions.defaults())) {
            snaps = img.snapshots();
        }
        if (snaps.isEmpty()) return "";
        StringBuilder sb = new StringBuilder("Snapshot list:\n");
        sb.append(String.format("%-10s%-17s%8s%20s%13s%11s", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK", "ICOUNT")).append('\n');
        for (Object o : ImageInfo.snapshots(snaps)) sb.append(InfoCommand.snapshotLine((Map<String, Object>) o)).append('\n');
        return sb.toString();
    }
}
