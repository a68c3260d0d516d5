package dev.qcow2.cli

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Qemu
import groovy.json.JsonSlurper
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

class MapCommandSpec extends Specification {
    @TempDir Path dir

    def "map JSON has qemu-img 7.2's entries (#kind)"() {
        given:
        def img = Images.build(dir, kind)
        def before = Sha256.of(img)

        when:
        def ours = Cli.run('map', '--output=json', img)
        def ref = Qemu.img('map', '--output=json', img.toString())
        def oursList = new JsonSlurper().parseText(ours.out)

        then: 'the same entries on 7.2 keys, and our only extra key is compressed'
        ours.exit == 0
        oursList.collect { it.findAll { k, v -> k != 'compressed' } } == ref.json()
        oursList.every { it.containsKey('compressed') }

        and: 'printed line for line as qemu-img does'
        ours.out.readLines().size() == ref.out.readLines().size()
        ours.out.replaceAll(/, "compressed": (true|false)/, '') == ref.out
        Sha256.of(img) == before

        where:
        kind << Images.KINDS
    }

    /*
     * Host holes as qemu-img sees them (lseek SEEK_DATA/SEEK_HOLE): after a snapshot, qemu's COW
     * fills partial clusters with FALLOC_FL_ZERO_RANGE (unwritten extents that SEEK_DATA reports as
     * data, though they read as zeros), and a metadata-preallocated image has data clusters that are
     * holes; both must come out exactly as qemu-img 7.2 prints them.
     */
    def "map after preallocation and copy-on-write equals qemu-img's, JSON and human (#kind)"() {
        given:
        def img = Images.build(dir, kind)
        build(img)

        when:
        def json = Cli.run('map', '--output=json', img)
        def human = Cli.run('map', img)
        def refJson = Qemu.img('map', '--output=json', img.toString())
        def refHuman = Qemu.img(['map', img.toString()], false)

        then:
        json.exit == 0 && json.err.isEmpty()
        json.out.replaceAll(/, "compressed": (true|false)/, '') == refJson.out
        human.exit == refHuman.exit
        human.out == refHuman.out

        where:
        kind                | build
        'snapshots'         | { Path p -> }
        'prealloc-metadata' | { Path p -> }
        'prealloc-metadata' | { Path p -> Qemu.img('snapshot', '-c', 's', p.toString()); Qemu.io(p, 'write -P 7 4k 8k', 'write -P 8 1M 64k', 'write -z 1536k 4k') }
        'snapshots'         | { Path p -> Qemu.io(p, 'write -P 9 68k 4k', 'discard 1M 64k') }
    }

    def "compressed clusters are flagged"() {
        given:
        def img = Images.build(dir, 'compressed')

        expect:
        Cli.run('map', '--output=json', img).json().findAll { it.compressed }*.start == [0, 131072]
    }

    def "human map matches qemu-img (#kind)"() {
        given:
        def img = Images.build(dir, kind)

        when:
        def ours = Cli.run('map', img)
        def ref = Qemu.img(['map', img.toString()], false)

        then:
        ours.exit == ref.exit
        ours.out == ref.out
        ref.exit == 0 || ours.err.trim() == 'qcow2: File contains external, encrypted or compressed clusters.'

        where:
        kind << ['plain', 'chain3', 'compressed', 'zero-discard', 'cluster512']
    }

    def "start and length options select a window like qemu-img"() {
        given:
        def img = Images.build(dir, 'chain3')

        expect:
        Cli.run('map', '--output=json', '-s', '64k', '-l', '1M', img).out.replace(', "compressed": false', '') ==
                Qemu.img('map', '--output=json', '-s', '65536', '-l', '1048576', img.toString()).out
    }

    def "a sparse 1 TiB image maps in one entry"() {
        given:
        def img = Qemu.create(dir.resolve('huge.qcow2'), '1T')
        Qemu.io(img, 'write -P 1 512G 64k')

        expect:
        Cli.run('map', '--output=json', img).json().collect { it.findAll { k, v -> k != 'compressed' } } ==
                Qemu.img('map', '--output=json', img.toString()).json()
    }
}
