package dev.qcow2.dsl

import dev.qcow2.repair.UndoJournal

import java.nio.file.Files
import java.nio.file.Path
import java.security.MessageDigest

/**
 * {@code undoJournal}: the journal the last repair of the open image kept ({@code IMAGE-undo}),
 * read by the core's one journal reader ({@link UndoJournal#read}) — what {@code undo} would
 * put back. One row per range the repair overwrote, in write order: file_offset, length,
 * old_sha256 (of the bytes before the repair), old_bytes and now_bytes (hex of the first 16
 * bytes before and now). {@code row.bytes} gives all the old bytes, {@code row.save(to: …)}
 * writes them. The table's title says whether the repair finished (its commit record is there)
 * and the file length to restore; the same as fields: {@code journal.committed},
 * {@code journal.original_length}, {@code journal.file}.
 */
class UndoJournalView extends Table {
    private static final int PREVIEW = 16

    /** The journal file. */
    final String file
    /** The repair finished; false: it was interrupted (undo still restores what it changed). */
    final boolean committed
    /** An undo began and was interrupted (running undo again completes it). */
    final boolean undoStarted
    /** The image file's length before the repair. */
    final long originalLength

    private UndoJournalView(String title, List<Row> rows, String file, UndoJournal.Contents c) {
        super(title, COLUMNS, rows)
        this.file = file
        this.committed = c.committed()
        this.undoStarted = c.undoStarted()
        this.originalLength = c.originalLength()
    }

    static final List<Column> COLUMNS = [Column.plain('index'), Column.hex('file_offset'), Column.bytes('length'),
            Column.plain('old_sha256'), Column.plain('old_bytes'), Column.plain('now_bytes')].asImmutable()

    long getOriginal_length() { originalLength }

    boolean getUndo_started() { undoStarted }

    static UndoJournalView of(Session s) {
        Path image = s.requirePath()
        Path journal = UndoJournal.pathFor(image)
        if (!Files.exists(journal)) {
            throw new DslException("${image.fileName}: no undo journal ($journal does not exist): no repair since the last undo, or its journal was removed")
        }
        Guard.run {
            UndoJournal.Contents c = UndoJournal.read(journal)
            def storage = s.image().storage()
            long now = storage.size()
            List<Row> rows = []
            c.ranges().eachWithIndex { UndoJournal.Range r, int i ->
                byte[] old = r.old()
                int shown = Math.min(PREVIEW, old.length)
                String nowBytes = r.offset() + shown <= now ? storage.read(r.offset(), shown).encodeHex().toString() : null
                def values = [index: i, file_offset: r.offset(), length: (long) old.length,
                              old_sha256: MessageDigest.getInstance('SHA-256').digest(old).encodeHex().toString(),
                              old_bytes: Arrays.copyOf(old, shown).encodeHex().toString(), now_bytes: nowBytes]
                rows << new BytesRow(values, String.format('undo-%d-at-0x%x.bin', i, r.offset()), [image, journal], { -> old.clone() })
            }
            String state = c.undoStarted() ? 'an undo was interrupted: run undo again'
                    : c.committed() ? 'repair finished' : 'repair was interrupted'
            new UndoJournalView("undo journal ${journal.fileName}: ${rows.size()} ranges, $state, file length before: ${c.originalLength()}",
                    rows, journal.toString(), c)
        }
    }
}
