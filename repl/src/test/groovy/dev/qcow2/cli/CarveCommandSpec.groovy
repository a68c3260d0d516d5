package dev.qcow2.cli

import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import groovy.json.JsonSlurper
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** {@code qcow2 carve}: the runs (human table, JSON manifest), the files in OUTDIR, one-line errors with exit 1; the image is only read. */
class CarveCommandSpec extends Specification {
    @TempDir Path dir

    Path snapshotDeleted() {
        def img = Qemu.create(dir.resolve('snap.qcow2'), '4M')
        Qemu.io(img, 'write -P 0xaa 0 256k')
        Qemu.img('snapshot', '-c', 's1', img.toString())
        Qemu.io(img, 'write -P 0xbb 0 64k')
        Qemu.img('snapshot', '-d', 's1', '--image-opts', "driver=qcow2,file.filename=$img,pass-discard-snapshot=off".toString())
        img
    }

    def "carve --output=#format lists the runs and writes them to OUTDIR; the image is unchanged"() {
        given:
        def img = snapshotDeleted()
        def sha = Sha256.of(img)
        def out = dir.resolve('out')

        when:
        def r = Cli.run(['carve', "--output=$format", img, out])

        then:
        r.exit == 0
        r.err == ''
        check(r.out)
        new JsonSlurper().parse(out.resolve('manifest.json').toFile()).runs*.kind as Set == ['l2-table', 'freed-data', 'l1-table', 'snapshot-table'] as Set
        Sha256.of(img) == sha

        where:
        format  | check
        'human' | { String o -> o.contains("old L2 table of deleted snapshot 's1' mapping guest 0x0..0x1fffffff") && o.contains('4 unreferenced clusters in 4 runs (leaked 0, free 4, uncovered 0)') }
        'json'  | { String o -> def j = new JsonSlurper().parseText(o); j.runs.size() == 4 && j.runs.every { it.file } && j.'free-clusters' == 4 }
    }

    def "#what: exit 1 and one line"() {
        given:
        def img = snapshotDeleted()
        def full = dir.resolve('full')
        Files.createDirectories(full)
        Files.writeString(full.resolve('keep'), 'x')
        Files.write(dir.resolve('junk'), new byte[4096])

        when:
        def r = Cli.run(['carve', (image == 'junk' ? dir.resolve('junk') : image == 'missing' ? dir.resolve('missing') : img).toString(),
                         (outdir == 'full' ? full : dir.resolve('new')).toString()])

        then:
        r.exit == 1
        r.err.readLines().size() == 1
        r.err.contains(message)

        where:
        what                 | image     | outdir | message
        'a non-empty OUTDIR' | 'img'     | 'full' | 'directory is not empty'
        'not a qcow2 image'  | 'junk'    | 'new'  | 'cannot carve without a qcow2 header'
        'a missing image'    | 'missing' | 'new'  | 'missing'
    }
}
