package dev.qcow2.dsl

import dev.qcow2.repair.RepairMode
import dev.qcow2.repair.Repairer
import dev.qcow2.repair.UndoJournal

import java.nio.charset.StandardCharsets
import java.nio.file.Files
import java.nio.file.Path

import static dev.qcow2.dsl.Column.Unit.BYTES
import static dev.qcow2.dsl.Column.Unit.HEX

/**
 * The commands that change the image (writable sessions only): {@code write}, {@code zero},
 * {@code discard}, {@code writeCompressed}, {@code repair leaks|all}, {@code undo}. Each change
 * is flushed before the command returns, and the session re-reads the image afterwards.
 */
final class Mutations {
    private Mutations() { }

    /** The bytes of {@code from: 'file'}. */
    static byte[] from(Map options, String command) {
        Options.check(options, command, ['from'])
        if (options.from == null) throw new DslException("$command: use $command offset, bytes or $command offset, from: 'file'")
        Guard.run { Files.readAllBytes(options.from instanceof Path ? options.from as Path : Path.of(options.from.toString())) }
    }

    /** Data to write: bytes, a string (UTF-8), a File or Path (its contents), or a list of byte values. */
    static byte[] bytes(Object data, String command) {
        if (data instanceof byte[]) return (byte[]) data
        if (data instanceof CharSequence) return data.toString().getBytes(StandardCharsets.UTF_8)
        if (data instanceof File) return Guard.run { Files.readAllBytes(((File) data).toPath()) }
        if (data instanceof Path) return Guard.run { Files.readAllBytes((Path) data) }
        if (data instanceof Hexdump) return ((Hexdump) data).bytes
        if (data instanceof List) return ((List) data).collect { (byte) ((Number) it).intValue() } as byte[]
        throw new DslException("$command: data must be bytes, a string, a file or a list of byte values, not ${data?.getClass()?.simpleName}")
    }

    static Record write(Session s, Object offset, Object data) {
        s.requireWritable()
        long off = Sizes.parse(offset, 'offset')
        byte[] b = bytes(data, 'write')
        Guard.run { def w = s.writer(); w.write(off, b); w.flush() }
        done(s, 'write', off, b.length)
    }

    static Record zero(Session s, Object offset, Object length) {
        s.requireWritable()
        long off = Sizes.parse(offset, 'offset'), len = Sizes.parse(length, 'length')
        Guard.run { def w = s.writer(); w.writeZeroes(off, len); w.flush() }
        done(s, 'zero', off, len)
    }

    static Record discard(Session s, Object offset, Object length) {
        s.requireWritable()
        long off = Sizes.parse(offset, 'offset'), len = Sizes.parse(length, 'length')
        Guard.run { def w = s.writer(); w.discard(off, len); w.flush() }
        done(s, 'discard', off, len)
    }

    /**
     * Writes whole clusters compressed. The offset must be cluster-aligned; data longer than a
     * cluster is written cluster by cluster, and a partial last cluster keeps the disk's
     * current bytes after the data (compressed writes cover whole clusters).
     */
    static Record writeCompressed(Session s, Object offset, Object data) {
        s.requireWritable()
        long off = Sizes.parse(offset, 'offset')
        byte[] b = bytes(data, 'writeCompressed')
        Guard.run {
            def w = s.writer()
            int cs = w.geometry().clusterSize()
            if (off % cs != 0) throw new DslException("writeCompressed: offset ${Sizes.hex(off)} is not cluster-aligned (clusters are $cs bytes)")
            if (off + b.length > w.size()) throw new DslException("writeCompressed: ${b.length} bytes at ${Sizes.hex(off)} go past the end of the disk (${w.size()} bytes)")
            for (int at = 0; at < b.length; at += cs) {
                long guest = off + at
                int n = (int) Math.min(cs, w.size() - guest)
                byte[] cluster = w.read(guest, n)
                System.arraycopy(b, at, cluster, 0, Math.min(n, b.length - at))
                w.writeCompressed(guest, cluster)
            }
            w.flush()
        }
        done(s, 'writeCompressed', off, b.length)
    }

    private static Record done(Session s, String op, long offset, long length) {
        s.changed()
        new Record(op, [op: op, offset: offset, length: length], [offset: HEX, length: BYTES])
    }

    static Record repair(Session s, RepairMode mode) {
        if (mode == null) throw new DslException('repair: use repair leaks or repair all')
        List<String> messages = []
        def r = s.exclusive { Path p -> Repairer.repair(p, mode, { messages << it } as java.util.function.Consumer<String>, dev.qcow2.crypto.SecretLookup.none(), s.followPolicy) }
        def f = [mode: mode.name().toLowerCase(), leaks_fixed: r.leaksFixed(), corruptions_fixed: r.corruptionsFixed(),
                 exit_code: r.exitCode(), journal: r.journal().map { it.toString() }.orElse(null)]
        if (r.failure().present) f.failure = r.failure().get()
        if (r.after() != null) {
            f.leaks_left = r.after().leaks()
            f.corruptions_left = r.after().corruptions()
        }
        f.messages = messages.join('\n')
        new Record("repair ${f.mode}", f)
    }

    static Record undo(Session s) {
        def r = s.exclusive { Path p -> UndoJournal.undo(p) }
        new Record('undo', [journal: r.journal().toString(), ranges_restored: r.ranges(), length: r.length(),
                            repair_was_interrupted: r.wasInterrupted()], [length: BYTES])
    }
}
