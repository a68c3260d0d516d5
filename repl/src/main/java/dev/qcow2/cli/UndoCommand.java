package dev.qcow2.cli;

import dev.qcow2.repair.UndoJournal;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code qcow2 undo FILE}: restores an image repaired by {@code qcow2 check -r} to its exact
 * bytes and length before the repair, from the journal {@code FILE-undo}, then removes the
 * journal. Refuses (exit 1) if the image changed after the repair.
 */
@Command(name = "undo", addMethodSubcommands = false, mixinStandardHelpOptions = true,
        description = {"Undo a repair made by 'qcow2 check -r': restore FILE byte for byte from FILE-undo.",
                "Refuses if the image was changed after the repair."})
final class UndoCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "The repaired image.")
    String file;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        UndoJournal.Restored r = UndoJournal.undo(Path.of(file));
        out.println("Restored " + file + " to its state before the repair (" + r.ranges() + " ranges, "
                + r.length() + " bytes" + (r.wasInterrupted() ? "; the repair had been interrupted" : "")
                + "); removed " + r.journal());
        out.flush();
        return 0;
    }
}
