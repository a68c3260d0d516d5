package dev.qcow2.dsl

import dev.qcow2.crypto.SecretLookup
import dev.qcow2.format.SnapshotEntry
import dev.qcow2.image.FollowPolicy
import dev.qcow2.image.OpenOptions
import dev.qcow2.image.Qcow2Image
import dev.qcow2.repair.RepairMode
import dev.qcow2.write.Qcow2Writer
import dev.qcow2.write.WriteOptions

import java.nio.file.Files
import java.nio.file.NoSuchFileException
import java.nio.file.Path

/**
 * One investigation: the image that is open and every DSL command, as methods and properties
 * (scripts run with this session as their delegate, see {@link DslShell}). Read-only unless
 * opened with {@code writable: true}; a writable session holds a {@link Qcow2Writer} (and its
 * write lock) and re-reads the image after every change, so read commands always show the file
 * as it is now. Commands never let a stack trace out: see {@link Guard}.
 */
class Session implements Closeable {
    private Path path
    private boolean writable
    private boolean followBacking = true
    /** Which files named inside the image are opened ({@code follow:}; see {@link FollowPolicy}). */
    private FollowPolicy follow = FollowPolicy.imageTree()
    /** What an {@code open} without {@code follow:} uses (a front end's {@code --allow-backing}). */
    private FollowPolicy defaultFollow = FollowPolicy.imageTree()
    /** {@code tolerant: true}: header contradictions are read past (listed by info's {@code ignored}), not refused. */
    private boolean tolerant
    private Qcow2Writer writer
    private Qcow2Image image
    /** The secrets of the open image's encrypted layers (none: an empty set); see {@link SessionSecrets}. */
    private SessionSecrets secrets
    private SessionSecrets.Prompt passphrasePrompt

    private ProgressListener progress

    /** How the front end asks for the passphrase of an encrypted layer none was given for (null: it does not ask). */
    @Internal
    SessionSecrets.Prompt getPassphrasePrompt() { passphrasePrompt }

    @Internal
    void setPassphrasePrompt(SessionSecrets.Prompt prompt) { passphrasePrompt = prompt }

    /** Told how far check, export, find and snapshot.diff have got (null: nobody); see {@link ProgressListener}. */
    @Internal
    ProgressListener getProgress() { progress }

    @Internal
    void setProgress(ProgressListener listener) { progress = listener }

    /** The follow policy of opens without {@code follow:} (the front end's {@code --allow-backing}). */
    @Internal
    void setDefaultFollow(FollowPolicy policy) { defaultFollow = policy ?: FollowPolicy.imageTree() }

    /** The open image's follow policy (what the commands that open it again use). */
    @Internal
    FollowPolicy getFollowPolicy() { follow }

    /**
     * {@code follow:}'s words, as the CLI's {@code --allow-backing}: {@code 'any'}, {@code 'none'},
     * a directory, or a list of directories; absent: the session's default.
     */
    @Internal
    FollowPolicy followOption(Map options) {
        if (!options.containsKey('follow')) return defaultFollow
        def v = options.follow
        List<String> words = v instanceof Collection ? (v as Collection).collect { it as String } : [v as String]
        try {
            FollowPolicy.parse(words)
        } catch (IllegalArgumentException e) {
            throw new DslException("open: follow: ${e.message}")
        }
    }

    // ---- open / close -------------------------------------------------------------------

    /**
     * {@code open 'disk.qcow2'}: read-only; follows the backing file as qemu-img does, when it lies
     * in the image's own directory tree (see {@code follow:} below).
     */
    Record open(String file) { open([:], file) }

    /**
     * {@code open 'disk.qcow2', writable: true} (also {@code backing: false} to not follow the
     * backing file). An encrypted image: {@code secret: 'pw'}, {@code secretFile: 'pw.txt'}, or
     * per layer of the chain {@code secrets: [0: 'pw', 1: 'pw2']} (see {@link SessionSecrets}).
     * {@code tolerant: true} reads an image whose header contradicts itself (qemu-img refuses it,
     * and so does a plain open) as evidence: info's {@code ignored} lists each contradiction read past.
     * {@code follow:} which files named inside the image (backing files, data file) are opened:
     * by default those inside the image's directory tree; {@code follow: '/dir'} (or a list) also
     * those under /dir, {@code follow: 'any'} all of them (as qemu-img), {@code follow: 'none'} none.
     */
    Record open(Map options, String file) {
        Guard.run {
            def unknown = options.keySet() - (['writable', 'backing', 'tolerant', 'follow'] + SessionSecrets.OPTIONS)
            if (unknown) throw new DslException("open: unknown option ${unknown.join(', ')}; known: writable, backing, tolerant, follow, secret, secretFile, secrets")
            FollowPolicy f = followOption(options)
            boolean tol = options.tolerant as boolean
            if (tol && options.writable) throw new DslException("open: tolerant: true reads only; it cannot be combined with writable: true")
            Path p = Path.of(file)
            if (!Files.exists(p)) throw new NoSuchFileException(file)
            close()
            boolean w = options.writable as boolean
            boolean follow = options.containsKey('backing') ? options.backing as boolean : true
            SessionSecrets s = SessionSecrets.of(options, passphrasePrompt)
            Qcow2Writer newWriter = null
            try {
                newWriter = w ? Qcow2Writer.open(p, WriteOptions.defaults().withSecrets(s.lookup()).withFollow(f)) : null
                image = Qcow2Image.open(p, openOptions(follow, s, tol, f))
            } catch (IOException | RuntimeException e) {
                newWriter?.close()
                s.close()
                throw e
            }
            path = p
            writable = w
            followBacking = follow
            this.follow = f
            tolerant = tol
            writer = newWriter
            secrets = s
            ImageCommands.info(this)
        }
    }

    private static OpenOptions openOptions(boolean followBacking, SessionSecrets s, boolean tolerant, FollowPolicy follow) {
        (followBacking ? OpenOptions.permissive() : OpenOptions.defaults()).withSecrets(s == null ? SecretLookup.none() : s.lookup())
                .withTolerant(tolerant).withFollow(follow)
    }

    /**
     * Opens the same file again with the same options and secrets (a front end's way back after
     * an interrupted read closed the image's channel).
     */
    @Internal
    void reopen() {
        Guard.run {
            requirePath()
            try {
                image?.close()
                writer?.close()
            } finally {
                image = null
                writer = null
            }
            if (writable) writer = Qcow2Writer.open(path, WriteOptions.defaults().withSecrets(secrets == null ? SecretLookup.none() : secrets.lookup()).withFollow(follow))
            image = Qcow2Image.open(path, openOptions(followBacking, secrets, tolerant, follow))
        }
    }

    /**
     * {@code close()}: closes the image (a writable one is flushed and unlocked). Only with
     * parentheses: a bare {@code close} is a one-line error, not a close (see {@link SessionScript}).
     */
    @Override
    void close() {
        Guard.run {
            try {
                image?.close()
                writer?.close()
            } finally {
                image = null
                writer = null
                path = null
                writable = false
                tolerant = false
                secrets?.close()
                secrets = null
            }
        }
    }

    @Internal
    boolean isOpen() { path != null }

    boolean isWritable() { writable }

    /** The open file, or null. */
    Path getPath() { path }

    /** One line for a prompt or a banner: "disk.qcow2 (read-only)". */
    @Internal
    String getLabel() { path == null ? 'no image' : "${path.fileName} (${writable ? 'writable' : 'read-only'})" }

    String toString() { label }

    // ---- what commands use ------------------------------------------------------------

    @Internal
    Path requirePath() {
        if (path == null) throw new DslException("no image open — use open 'file.qcow2'")
        path
    }

    /** The image as the file is now (re-read after a change). */
    @Internal
    Qcow2Image image() {
        requirePath()
        if (image == null) {
            image = Guard.run { Qcow2Image.open(path, openOptions(followBacking, secrets, tolerant, follow)) }
        }
        image
    }

    @Internal
    Qcow2Writer writer() {
        requireWritable()
        if (writer == null) writer = Guard.run { Qcow2Writer.open(path, WriteOptions.defaults().withSecrets(secrets == null ? SecretLookup.none() : secrets.lookup()).withFollow(follow)) }
        writer
    }

    @Internal
    void requireWritable() {
        requirePath()
        if (!writable) throw new DslException("image is open read-only — use open '$path', writable: true")
    }

    /** After a change: the next read command re-reads the image. */
    @Internal
    void changed() {
        Guard.run {
            try { image?.close() } finally { image = null }
        }
    }

    /**
     * Runs an operation that opens the file for writing itself (snapshots, repair, undo): the
     * session's writer lets go of the file (and its lock) first, and is reopened on next use.
     */
    @Internal
    def <T> T exclusive(Closure<T> op) {
        requireWritable()
        Guard.run {
            try {
                writer?.close()
            } finally {
                writer = null
                changed()
            }
            op.call(path)
        }
    }

    /** The snapshot with this ID or name (as qemu-img finds it), or a one-line error listing the known ones. */
    @Internal
    SnapshotEntry snapshotEntry(String idOrName) {
        Guard.run {
            def found = image().findSnapshot(idOrName)
            if (found.present) return found.get()
            def known = image().snapshots()*.name
            throw new DslException("unknown snapshot '$idOrName'; known: ${known ? known.join(', ') : 'none'}")
        }
    }

    // ---- read commands --------------------------------------------------------------

    Record getInfo() { ImageCommands.info(this) }

    Record getHeader() { ImageCommands.header(this) }

    Table getExtensions() { ImageCommands.extensions(this) }

    Table getFeatures() { ImageCommands.features(this) }

    Table getBitmaps() { ImageCommands.bitmaps(this) }

    /** {@code bitmap('b0').dirty}, {@code bitmap('b0').add granularity: '4k'}, {@code .remove()}, {@code .clear()}, … */
    BitmapOps bitmap(String name) {
        if (!name) throw new DslException("bitmap: the bitmap needs a name")
        requirePath()
        new BitmapOps(this, name)
    }

    /** The bitmaps' names (the writer's while the image is open for writing). */
    @Internal
    List<String> bitmapNames() {
        Guard.run { writable ? writer().bitmaps().list()*.name() : image().bitmaps()*.name() }
    }

    Record getCheck() { ImageCommands.check(this) }

    Level getL1() { Level.L1 }

    Level getL2() { Level.L2 }

    /** The active state as a view (what read commands use without {@code from:}). */
    View getActive() { new View(this, null) }

    /** {@code snapshot('a')}: the disk as snapshot 'a' recorded it, read-only. */
    View snapshot(String idOrName) { snapshotEntry(idOrName); new View(this, idOrName) }

    /** {@code snapshot.list}, {@code snapshot.diff 'a', 'b'}, {@code snapshot.create 'x'}, … */
    SnapshotOps getSnapshot() { new SnapshotOps(this) }

    Table getMap() { getActive().map }

    Table map(Map options) { source(options, 'map').map }

    Table walk(Level level) { getActive().walk(level) }

    Table walk(Map options, Level level) { source(options, 'walk').walk(options, level) }

    Hexdump read(Object offset, Object length) { getActive().read(offset, length) }

    Hexdump read(Map options, Object offset, Object length) { source(options, 'read').read(options, offset, length) }

    Hexdump cluster(Object n) { getActive().cluster(n) }

    Hexdump cluster(Map options, Object n) { source(options, 'cluster').cluster(options, n) }

    Table find(Object pattern) { getActive().find([:], pattern) }

    Table find(Map options, Object pattern) { source(options, 'find').find(options, pattern) }

    /** {@code export raw: 'out.raw'}, {@code export snapshot: 'a', to: 'a.qcow2', format: 'qcow2'}; see {@link Exporter}. */
    Record export(Map options) { Exporter.export(this, options) }

    Refcounts getRefcounts() { Refcounts.of(this) }

    /** Host clusters no metadata references or whose refcount is 0, with their contents; see {@link Unreferenced}. */
    Table getUnreferenced() { Unreferenced.of(this) }

    /** The host clusters by what references them: {@code clusters.unreferenced} is the carve; see {@link Clusters}. */
    Clusters getClusters() { new Clusters(this) }

    /** {@code carve to: 'dir'}: every unreferenced cluster run copied into a new or empty directory with manifest.json; see {@link Carving}. */
    Record carve(Map options) { Carving.carve(this, options) }

    /** The view named by a {@code from:} option (a view or a snapshot name), else the active state. */
    @Internal
    View source(Map options, String command) {
        def from = options.from
        if (from == null) return getActive()
        if (from instanceof View) return (View) from
        if (from instanceof CharSequence) return snapshot(from.toString())
        throw new DslException("$command: from: takes snapshot('name') or a snapshot name")
    }

    // ---- changing the image (writable sessions) ---------------------------------

    Record write(Object offset, Object data) { Mutations.write(this, offset, data) }

    Record write(Map options, Object offset) { Mutations.write(this, offset, Mutations.from(options, 'write')) }

    Record zero(Object offset, Object length) { Mutations.zero(this, offset, length) }

    Record discard(Object offset, Object length) { Mutations.discard(this, offset, length) }

    Record writeCompressed(Object offset, Object data) { Mutations.writeCompressed(this, offset, data) }

    Record writeCompressed(Map options, Object offset) {
        Mutations.writeCompressed(this, offset, Mutations.from(options, 'writeCompressed'))
    }

    RepairMode getLeaks() { RepairMode.LEAKS }

    RepairMode getAll() { RepairMode.ALL }

    /** {@code repair leaks} or {@code repair all}, as qemu-img check -r; keeps an undo journal. */
    Record repair(RepairMode mode) { Mutations.repair(this, mode) }

    /** {@code repair 'leaks'} / {@code repair 'all'}: the mode by name (when a variable hides {@code leaks} or {@code all}). */
    Record repair(String mode) {
        def m = RepairMode.values().find { it.name().equalsIgnoreCase(mode) }
        if (m == null) throw new DslException("repair: the mode is leaks or all, not '$mode'")
        repair(m)
    }

    /** {@code undo()}: restores the bytes the last repair changed (parentheses required: it changes the image). */
    Record undo() { Mutations.undo(this) }

    /** The last repair's undo journal as a table of the ranges it changed; see {@link UndoJournalView}. */
    UndoJournalView getUndoJournal() { UndoJournalView.of(this) }

    /** {@code fail 'message'}: stops the script or input with this one-line error. */
    Object fail(Object message) { throw new DslException(String.valueOf(message)) }

    /** {@code help}: every word, with where it applies. */
    Table getHelp() { Help.table() }

    /** {@code help 'walk'}: one word. */
    Record help(String word) { Help.one(word) }
}
