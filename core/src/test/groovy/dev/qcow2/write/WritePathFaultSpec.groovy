package dev.qcow2.write

import dev.qcow2.Qcow2Exception
import dev.qcow2.amend.AmendOptions
import dev.qcow2.amend.Amender
import dev.qcow2.chain.Commit
import dev.qcow2.chain.Progress
import dev.qcow2.chain.Rebase
import dev.qcow2.check.ImageChecker
import dev.qcow2.convert.Qcow2Convert
import dev.qcow2.create.Preallocation
import dev.qcow2.crypto.SecretLookup
import dev.qcow2.crypto.SecretObjects
import dev.qcow2.image.OpenOptions
import dev.qcow2.image.Qcow2Image
import dev.qcow2.repair.RefcountEditor
import dev.qcow2.repair.RepairMode
import dev.qcow2.repair.Repairer
import dev.qcow2.repair.UndoJournal
import dev.qcow2.resize.Resizer
import dev.qcow2.snapshot.Snapshots
import dev.qcow2.storage.WritableFileStorage
import dev.qcow2.storage.WritableOpener
import dev.qcow2.testing.Damage
import dev.qcow2.testing.EncryptedImages
import dev.qcow2.testing.FaultyStorage
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.time.Instant

/**
 * Every write path under EIO and ENOSPC at every write point, and EIO at every flush. For each
 * path a fault-free run counts the mutating calls (write, setLength, punchHole) and flushes the
 * path makes on the image it changes; then, for every N, the path runs again on a fresh copy with
 * (a) EIO at the N-th mutating call (a dead disk: every call after fails too), (b) ENOSPC from the
 * N-th mutating call on (the disk is full: every write and growth fails, shrinking and hole
 * punching still work), (c) EIO at the N-th flush. The faults enter through the storage the path
 * is given, or through {@link WritableOpener} where the path opens the file by name (commit's
 * base, convert's target).
 *
 * After each fault: the failure is one {@link Qcow2Exception} line naming the file (nothing else
 * escapes, no fault is swallowed); the file left behind has no corruption under our check and
 * under qemu-img check (leaks allowed, as QEMU's); every cluster of the guest reads as it did
 * before the operation or as after a fault-free run (an operation that keeps the guest keeps it,
 * a write is whole or absent per cluster). A repair's undo journal restores the damaged image
 * byte for byte. A failed convert removes its half-written target (qemu-img convert 7.2 leaves
 * it; written without flushes or ordering, it may name compressed clusters whose bytes never
 * arrived).
 */
class WritePathFaultSpec extends Specification {
    @TempDir Path dir
    @Shared Map<String, Integer> points = [:]

    static final int CS = 4096
    static final String PW = 'fault-pw'

    def "#path under #fault at every point: one line naming the file, no corruption, old or new data"() {
        given: 'the images, and the fault-free result'
        Path base = Files.createDirectories(dir.resolve('base'))
        Row row = ROWS[path]
        row.setup.call(base)
        Path golden = copyDir(base, dir.resolve('golden'))
        byte[] before = guest(golden, row, true)
        FaultyStorage probe = null
        row.op.call(golden, opener { probe = it })
        assert probe != null && probe.writes > 0: "$path wrote nothing"
        byte[] after = guest(golden, row, false)
        long count = fault == 'EIO at flush' ? probe.flushes : probe.writes
        points["$path/$fault".toString()] = (int) count
        String damaged = row.repair ? Sha256.of(base.resolve(row.target)) : null
        int corruptionsBefore = row.repair ? corruptions(base.resolve(row.target), row) : 0

        expect:
        fault != 'EIO at flush' || count > 0 || !row.flushes
        (1..Math.max(count, 1)).each { long n ->
            if (count == 0) return
            Path run = copyDir(base, dir.resolve("run-$n"))
            FaultyStorage storage = null
            Throwable result = null
            try {
                row.op.call(run, opener { FaultyStorage s ->
                    storage = s
                    switch (fault) {
                        case 'EIO' -> s.failWriteAt = n
                        case 'ENOSPC' -> s.fullAt = n
                        case 'EIO at flush' -> s.failFlushAt = n
                    }
                })
            } catch (Throwable t) {
                result = t
            }
            String at = "$path, $fault at $n of $count"
            boolean hit = storage.failed || storage.full
            if (result == null) {
                // only a full disk can pass unnoticed: when nothing after the N-th call needed space
                assert fault == 'ENOSPC' && !storage.enospcThrown: "$at: the fault was swallowed"
            } else {
                assert result instanceof Qcow2Exception: "$at: ${result.getClass().name}: $result.message"
                assert result.message.contains(row.target): "$at: the message does not name the file: $result.message"
                assert !result.message.contains('\n'): "$at: more than one line: $result.message"
                assert hit: "$at: failed without the fault: $result"
            }
            Path left = run.resolve(row.target)
            if (row.removedOnFailure && result != null) {
                assert !Files.exists(left): "$at: the half-written target was left"
                run.toFile().deleteDir()
                return
            }
            int c = corruptions(left, row)
            assert c <= corruptionsBefore: "$at: our check finds $c corruptions"
            def theirs = Qemu.img(['check'] + (row.pw ? EncryptedImages.secret('s0', PW) + ['--image-opts', EncryptedImages.imageOpts(left, 's0')]
                    : [left.toString()]), false)
            assert theirs.exit in [0, 3] || theirs.exit == 2 && (row.repair || onlyMissingCopiedBits(theirs.err)): "$at: qemu-img check: $theirs"
            byte[] now = guest(run, row, false)
            for (int i = 0; i < Math.max(before.length, after.length); i += CS) {
                assert sameCluster(now, before, i) || sameCluster(now, after, i): "$at: guest cluster ${i / CS} is neither old nor new"
            }
            if (row.repair && Files.exists(UndoJournal.pathFor(left))) {
                UndoJournal.undo(left)
                assert Sha256.of(left) == damaged: "$at: undo did not restore the image"
            }
            run.toFile().deleteDir()
        }

        where:
        [path, fault] << [ROWS.keySet().toList(), ['EIO', 'ENOSPC', 'EIO at flush']].combinations()
    }

    def cleanupSpec() {
        if (points) println "WritePathFaultSpec points: ${points.values().sum()} over ${points.size()} path×fault pairs: $points"
    }

    /** One write path: how its images are made, what it does, which file it changes. */
    static class Row {
        String target = 'img.qcow2'
        Closure setup
        Closure op
        boolean repair, flushes = true, removedOnFailure
        String pw
    }

    static Row row(Map m) { new Row(m) }

    static Path img(Path d) { d.resolve('img.qcow2') }

    /** A 256 KiB image with data, a zero cluster and a compressed cluster. */
    static Path plain(Path d, String options = 'cluster_size=4096') {
        def f = Qemu.create(img(d), '256K', options)
        Qemu.io(f, 'write -P 0x5a 0 24k', 'write -P 0x6b 96k 16k', 'write -c -P 0x11 128k 4k')
        if (!options.contains('compat=0.10')) Qemu.io(f, 'write -z 160k 8k')
        f
    }

    static Qcow2Writer writer(Path d, WritableOpener o, SecretLookup secrets = SecretLookup.none()) {
        // the path form: a fault while opening (e.g. the bitmaps' IN_USE write) closes the file and its lock
        Qcow2Writer.open(img(d), WriteOptions.defaults().withSecrets(secrets).withOpener(o))
    }

    static void snapshots(Path d, WritableOpener o, Closure c) {
        Snapshots s = Snapshots.open(o.open(img(d)))
        try { c.call(s) } finally { s.close() }
    }

    static void amend(Path d, WritableOpener o, String opts) {
        def file = o.open(img(d))
        try { Amender.amend(file, img(d), AmendOptions.parse([opts])) } finally { file.close() }
    }

    static void resize(Path d, WritableOpener o, long size, Preallocation mode) {
        writer(d, o).withCloseable { Resizer.resize(it, size, mode) }
    }

    static final Map<String, Row> ROWS = [
        'guest writes + flush'       : row(setup: { plain(it) }, op: { Path d, WritableOpener o ->
            writer(d, o).withCloseable { w ->
                w.write(0, ([0x21] * (CS * 2)) as byte[]); w.flush()
                w.write(200 * 1024, ([0x22] * (CS * 3)) as byte[]); w.flush()
            }
        }),
        'zero writes, discards'      : row(setup: { plain(it) }, op: { Path d, WritableOpener o ->
            writer(d, o).withCloseable { w ->
                w.writeZeroes(0, CS * 2, false); w.writeZeroes(96 * 1024, CS * 2, true)
                w.discard(8 * CS, CS * 2); w.writeZeroes(220 * 1024, CS, false)
            }
        }),
        'compressed writes'          : row(setup: { plain(it) }, op: { Path d, WritableOpener o ->
            writer(d, o).withCloseable { w ->
                (0..<4).each { i -> w.writeCompressed(192 * 1024 + i * CS, ([0x30 + i] * CS) as byte[]) }
                w.writeCompressed(0, ([0x40] * CS) as byte[])
            }
        }),
        'LUKS-encrypted writes'      : row(pw: PW, setup: { Path d ->
            def f = EncryptedImages.create(img(d), '256K', 'luks', PW, 'cluster_size=4096')
            EncryptedImages.io(f, PW, ['write -P 0x5a 0 16k'])
        }, op: { Path d, WritableOpener o ->
            writer(d, o, EncryptedImages.top(PW)).withCloseable { w ->
                w.write(0, ([0x21] * CS) as byte[]); w.write(64 * 1024, ([0x22] * (CS * 3)) as byte[])
                w.writeZeroes(8 * CS, CS, false)
            }
        }),
        'bitmap add/merge/remove'    : row(setup: { Path d ->
            plain(d); Qemu.img('bitmap', '--add', img(d).toString(), 'b0'); Qemu.io(img(d), 'write -P 1 32k 8k')
        }, op: { Path d, WritableOpener o ->
            writer(d, o).withCloseable { w ->
                w.bitmaps().add('b1', 65536, true); w.bitmaps().merge('b1', 'b0'); w.bitmaps().remove('b0')
                w.write(48 * 1024, ([0x23] * CS) as byte[])
            }
        }),
        'snapshot create'            : row(setup: { plain(it) }, op: { Path d, WritableOpener o ->
            snapshots(d, o) { it.create('s2', Instant.ofEpochSecond(1_700_000_000)) }
        }),
        'snapshot apply'             : row(setup: { Path d ->
            plain(d); Qemu.img('snapshot', '-c', 's1', img(d).toString()); Qemu.io(img(d), 'write -P 0x77 0 12k', 'write -P 0x78 200k 8k')
        }, op: { Path d, WritableOpener o -> snapshots(d, o) { it.apply('s1') } }),
        'snapshot delete'            : row(setup: { Path d ->
            plain(d); Qemu.img('snapshot', '-c', 's1', img(d).toString()); Qemu.io(img(d), 'write -P 0x77 0 12k')
        }, op: { Path d, WritableOpener o -> snapshots(d, o) { it.delete('s1') } }),
        'amend compat=0.10'          : row(setup: { plain(it) }, op: { Path d, WritableOpener o -> amend(d, o, 'compat=0.10') }),
        'amend compat=1.1'           : row(setup: { plain(it, 'cluster_size=4096,compat=0.10') }, op: { Path d, WritableOpener o -> amend(d, o, 'compat=1.1') }),
        'amend refcount_bits=1'      : row(setup: { plain(it) }, op: { Path d, WritableOpener o -> amend(d, o, 'refcount_bits=1') }),
        'amend refcount_bits=64'     : row(setup: { plain(it) }, op: { Path d, WritableOpener o -> amend(d, o, 'refcount_bits=64') }),
        'amend lazy_refcounts=on'    : row(setup: { plain(it) }, op: { Path d, WritableOpener o -> amend(d, o, 'lazy_refcounts=on') }),
        'resize grow'                : row(setup: { plain(it) }, op: { Path d, WritableOpener o -> resize(d, o, 8L << 20, Preallocation.OFF) }),
        'resize shrink'              : row(setup: { plain(it) }, op: { Path d, WritableOpener o -> resize(d, o, 100 * 1024, Preallocation.OFF) }),
        'resize preallocation=metadata': row(setup: { plain(it) }, op: { Path d, WritableOpener o -> resize(d, o, 512 * 1024, Preallocation.METADATA) }),
        'resize preallocation=full'  : row(setup: { plain(it) }, op: { Path d, WritableOpener o -> resize(d, o, 320 * 1024, Preallocation.FULL) }),
        'commit'                     : row(target: 'base.qcow2', setup: { Path d ->
            def b = Qemu.create(d.resolve('base.qcow2'), '256K', 'cluster_size=4096')
            Qemu.io(b, 'write -P 0x5a 0 64k')
            def t = Qemu.create(d.resolve('top.qcow2'), '256K', 'cluster_size=4096', ['-b', 'base.qcow2', '-F', 'qcow2'])
            Qemu.io(t, 'write -P 0x66 16k 32k', 'write -z 0 8k', 'write -P 0x67 192k 16k')
        }, op: { Path d, WritableOpener o ->
            Commit.commit(d.resolve('top.qcow2'), new Commit.Options(null, true), SecretLookup.none(), o, Progress.NONE)
        }),
        'rebase (safe)'              : row(setup: { Path d ->
            def old = Qemu.create(d.resolve('old.qcow2'), '256K', 'cluster_size=4096')
            Qemu.io(old, 'write -P 0x5a 0 64k')
            def nb = Qemu.create(d.resolve('new.qcow2'), '256K', 'cluster_size=4096')
            Qemu.io(nb, 'write -P 0x5a 0 16k', 'write -P 0x44 128k 16k')
            def t = Qemu.create(img(d), '256K', 'cluster_size=4096', ['-b', 'old.qcow2', '-F', 'qcow2'])
            Qemu.io(t, 'write -P 0x66 48k 8k')
        }, op: { Path d, WritableOpener o ->
            def file = o.open(img(d))
            try { Rebase.rebase(file, img(d), new Rebase.Options('new.qcow2', 'qcow2', false), Progress.NONE) } finally { file.close() }
        }),
        'check -r leaks'             : row(repair: true, setup: { Path d ->
            plain(d); RefcountEditor.leakOneCluster(img(d), ([9] * CS) as byte[]); RefcountEditor.leakOneCluster(img(d), ([8] * CS) as byte[])
        }, op: { Path d, WritableOpener o ->
            def file = o.open(img(d))
            try { Repairer.repair(img(d), file, RepairMode.LEAKS, { }) } finally { file.close() }
        }),
        'check -r all'               : row(repair: true, setup: { Path d ->
            plain(d); RefcountEditor.leakOneCluster(img(d), ([9] * CS) as byte[])
            def dmg = new Damage(img(d)); dmg.put64(dmg.l2(), dmg.u64(dmg.l2()) & ~(1L << 63))
        }, op: { Path d, WritableOpener o ->
            def file = o.open(img(d))
            try { Repairer.repair(img(d), file, RepairMode.ALL, { }) } finally { file.close() }
        }),
        'convert -O qcow2'           : row(target: 'out.qcow2', flushes: false, removedOnFailure: true, setup: { Path d -> Files.move(plain(d), d.resolve('src.qcow2')) },
            op: { Path d, WritableOpener o -> convert(d, o, false) }),
        'convert -O qcow2 -c'        : row(target: 'out.qcow2', flushes: false, removedOnFailure: true, setup: { Path d -> Files.move(plain(d), d.resolve('src.qcow2')) },
            op: { Path d, WritableOpener o -> convert(d, o, true) }),
    ]

    static void convert(Path d, WritableOpener o, boolean compress) {
        Qcow2Image.open(d.resolve('src.qcow2')).withCloseable { src ->
            Qcow2Convert.convert(src, d.resolve('out.qcow2'), 'cluster_size=4096', compress, SecretObjects.none(), o, Progress.NONE)
        }
    }

    /** An opener whose storages are FaultyStorages over the file, configured by {@code configure}. */
    private static WritableOpener opener(Closure configure) {
        return { Path p ->
            def s = new FaultyStorage(WritableFileStorage.open(p))
            configure.call(s)
            s
        } as WritableOpener
    }

    /** The guest of the row's target as our reader sees it ({@code before} of a convert: nothing yet). */
    private static byte[] guest(Path d, Row row, boolean before) {
        Path f = d.resolve(row.target)
        if (before && !Files.exists(f)) return new byte[0]
        def options = OpenOptions.permissive().withSecrets(row.pw ? EncryptedImages.top(row.pw) : SecretLookup.none())
        Qcow2Image.open(f, options).withCloseable { img ->
            byte[] buf = new byte[(int) img.size()]
            img.read(dev.qcow2.units.GuestOffset.of(0), buf, 0, buf.length)
            buf
        }
    }

    /**
     * Our check's corruptions, without a missing OFLAG_COPIED bit on a cluster with refcount 1:
     * safe (the next write copies the cluster), and no write order avoids it once a step that
     * clears the bits before it raises the refcounts fails (as SnapshotCrashSpec tolerates).
     * A bit set on a shared cluster is counted.
     */
    private static int corruptions(Path f, Row row) {
        def options = OpenOptions.forChecking().withSecrets(row.pw ? EncryptedImages.top(row.pw) : SecretLookup.none())
        Qcow2Image.open(f, options).withCloseable { img ->
            int tolerated = 0
            def report = ImageChecker.check(img) { finding ->
                if (finding.type().counter() == dev.qcow2.check.Finding.Counter.CORRUPTION && MISSING_COPIED.matcher(finding.message()).find()) tolerated++
            }
            assert report.checkErrors() == 0: "$f: $report"
            (int) report.corruptions() - tolerated
        }
    }

    static final java.util.regex.Pattern MISSING_COPIED = ~/OFLAG_COPIED (data|L2) cluster: .* refcount=1$/

    /** qemu-img check's errors are all a missing OFLAG_COPIED bit (refcount=1). */
    static boolean onlyMissingCopiedBits(String stderr) {
        def errors = stderr.readLines().findAll { it.startsWith('ERROR') }
        !errors.isEmpty() && errors.every { MISSING_COPIED.matcher(it).find() }
    }

    /** Cluster at {@code i} of {@code a} equals that of {@code b}; past the end of either reads as zeros. */
    private static boolean sameCluster(byte[] a, byte[] b, int i) {
        for (int k = i; k < i + CS; k++) {
            byte x = k < a.length ? a[k] : 0
            byte y = k < b.length ? b[k] : 0
            if (x != y) return false
        }
        true
    }

    private static Path copyDir(Path from, Path to) {
        Files.createDirectories(to)
        Files.list(from).withCloseable { s -> s.each { Files.copy(it, to.resolve(it.fileName)) } }
        to
    }
}
