package dev.qcow2.storage;

import java.io.IOException;
import java.nio.file.Path;

/**
 * How a write path that is given a file name opens it for writing: the file itself, locked
 * ({@link #FILES}), or — in the fault specs — a storage over the file that fails on cue. The
 * one seam that lets commit and convert run under injected EIO and ENOSPC without a second
 * copy of their code.
 */
@FunctionalInterface
public interface WritableOpener {
    /** Opens an existing file for writing. */
    WritableStorage open(Path path) throws IOException;

    /** The file, with the exclusive write lock ({@link WritableFileStorage#open}). */
    WritableOpener FILES = WritableFileStorage::open;
}
