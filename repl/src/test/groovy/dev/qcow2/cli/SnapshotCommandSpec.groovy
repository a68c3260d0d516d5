package dev.qcow2.cli

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** {@code qcow2 snapshot} against {@code qemu-img snapshot} 7.2: same listing, same lookups, same errors and exit codes. */
class SnapshotCommandSpec extends Specification {
    @TempDir Path dir

    private Path image(String name) {
        def img = Qemu.create(dir.resolve(name), '4M')
        Qemu.io(img, 'write -P 0x11 0 256k', 'write -c -P 0x22 1M 64k')
        img
    }

    /** The listing without the DATE column, which differs by the second the snapshot was taken. */
    private static String undated(String listing) {
        // the DATE column (wall clock at creation) is the only field two runs may differ in;
        // a long TAG shifts it right, so it is matched, not cut at fixed columns
        listing.replaceAll(/ \d{4}-\d\d-\d\d \d\d:\d\d:\d\d /, ' <date> ')
    }

    def "-c then -l: our listing is qemu-img's, and qemu-img lists ours the same"() {
        given:
        def ours = image('ours.qcow2')
        def theirs = image('theirs.qcow2')

        when:
        def created = ['first', 'second snapshot', 'a-rather-long-snapshot-name-here'].collect { name ->
            Qemu.img('snapshot', '-c', name, theirs.toString())
            Cli.run('snapshot', '-c', name, ours)
        }
        def ourList = Cli.run('snapshot', '-l', ours)
        def qemuOnOurs = Qemu.img('snapshot', '-l', ours.toString())
        def qemuOnTheirs = Qemu.img('snapshot', '-l', theirs.toString())

        then:
        created.every { it.exit == 0 && it.out == '' && it.err == '' }
        ourList.exit == 0
        ourList.out == qemuOnOurs.out
        undated(ourList.out) == undated(qemuOnTheirs.out)
        ourList.out.startsWith('Snapshot list:\nID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT\n')
        Qemu.img(['check', ours.toString()], false).exit == 0
    }

    def "-l of an image without snapshots prints nothing, and leaves the file untouched"() {
        given:
        def img = image('plain.qcow2')
        def before = Sha256.of(img)

        when:
        def r = Cli.run('snapshot', '-l', img)

        then:
        r.exit == 0 && r.out == '' && r.err == ''
        Sha256.of(img) == before
    }

    def "-a takes an ID or a name, -d only a name (the first snapshot with it), as qemu-img 7.2"() {
        given: 'snapshot 1 named "s1" and snapshot 2 named "1"'
        def img = image('ids.qcow2')
        Cli.run('snapshot', '-c', 's1', img)
        Qemu.io(img, 'write -P 0x33 0 64k')
        Cli.run('snapshot', '-c', '1', img)
        byte[] atFirst = Qemu.rawBytes(img, '1')

        when: '-a 1 applies ID 1'
        def applied = Cli.run('snapshot', '-a', '1', img)

        then:
        applied.exit == 0
        Qemu.rawBytes(img) == atFirst

        when: '-d 1 deletes the snapshot named "1", which is ID 2'
        def deleted = Cli.run('snapshot', '-d', '1', img)
        def left = Qemu.img('snapshot', '-l', img.toString()).out.readLines().drop(2)*.substring(0, 27)*.trim()

        then:
        deleted.exit == 0
        left == ['1         s1']
        Qemu.img(['check', img.toString()], false).exit == 0
    }

    def "qemu-img's messages for unknown snapshots and mixed actions (#args)"() {
        given:
        def img = image('err.qcow2')
        Cli.run('snapshot', '-c', 'here', img)
        def before = Sha256.of(img)

        when:
        def r = Cli.run(['snapshot'] + args + [img])
        def q = Qemu.img(['snapshot'] + args + [img.toString()], false)

        then:
        r.exit == 1 && q.exit == 1
        r.err.readLines()[0] == 'qcow2: ' + message
        q.err.readLines()[0] == 'qemu-img: ' + message
        Sha256.of(img) == before

        where:
        args                 | message
        ['-a', 'nope']       | "Could not apply snapshot 'nope': Failed to load snapshot: No such file or directory"
        ['-d', 'nope']       | "Could not delete snapshot 'nope': snapshot not found"
        ['-d', '1']          | "Could not delete snapshot '1': snapshot not found"
        ['-l', '-c', 'x']    | "Cannot mix '-l', '-a', '-c', '-d'"
    }

    def "refcount_bits=1 refuses a snapshot of allocated data, leaving the image as it was"() {
        given:
        def img = Qemu.create(dir.resolve('r1.qcow2'), '1M', 'refcount_bits=1')
        Qemu.io(img, 'write -P 1 0 64k')
        def before = Sha256.of(img)

        when:
        def r = Cli.run('snapshot', '-c', 's', img)

        then:
        r.exit == 1
        r.err.startsWith("qcow2: Could not create snapshot 's': ")
        r.err.contains('refcount_bits=1')
        r.err.readLines().size() == 1
        Sha256.of(img) == before
    }

    def "no action does nothing, as qemu-img"() {
        given:
        def img = image('none.qcow2')
        def before = Sha256.of(img)

        expect:
        Cli.run('snapshot', img).with { exit == 0 && out == '' && err == '' }
        Sha256.of(img) == before
    }
}
