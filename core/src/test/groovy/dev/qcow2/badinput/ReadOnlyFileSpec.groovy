package dev.qcow2.badinput

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Damage

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.FileTime
import java.nio.file.attribute.PosixFilePermissions

import static dev.qcow2.testing.Damage.*

/** Reading never needs, nor uses, write access: FileStorage opens files for reading only. */
class ReadOnlyFileSpec extends Specification {
    @TempDir Path dir

    def "an image whose file is mode 0444 opens and reads, and neither its bytes nor its mtime change"() {
        given: 'a dirty, lazy-refcounts image with snapshots and a bitmap - QEMU would repair it on a writable open'
        Path f = Qemu.create(dir.resolve('ro.qcow2'), '1M', 'lazy_refcounts=on')
        Qemu.io(f, 'write -P 1 0 64k')
        Qemu.img('snapshot', '-c', 's1', f.toString())
        Qemu.img('bitmap', '--add', f.toString(), 'b0')
        putLong(f, INCOMPATIBLE_FEATURES, getLong(f, INCOMPATIBLE_FEATURES) | 1L)   // dirty bit
        Files.setLastModifiedTime(f, FileTime.fromMillis(1_000_000_000_000L))
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString('r--r--r--'))
        String before = Sha256.of(f)

        when:
        exercise(f)

        then:
        Sha256.of(f) == before
        Files.getLastModifiedTime(f).toMillis() == 1_000_000_000_000L
        ourRaw(f) == Qemu.rawBytes(f)
    }
}
