package dev.qcow2.cli

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
        def before = Files256.of(img)

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
        Files256.of(img) == before

        where:
        kind << Images.KINDS - ['snapshots']
    }

    /*
     * Known difference: after a snapshot, qemu's COW fills partial clusters with
     * FALLOC_FL_ZERO_RANGE (unwritten extents, which SEEK_DATA reports as data), and the image
     * then looks metadata-preallocated to qemu too. Java has no SEEK_HOLE, so we see all-zero host
     * blocks as holes and report zero:true where qemu says zero:false.
     */
    @spock.lang.PendingFeature(reason = 'host holes vs unwritten extents need SEEK_DATA')
    def "map JSON after snapshot COW matches qemu-img"() {
        given:
        def img = Images.build(dir, 'snapshots')

        expect:
        Cli.run('map', '--output=json', img).json().collect { it.findAll { k, v -> k != 'compressed' } } ==
                Qemu.img('map', '--output=json', img.toString()).json()
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
