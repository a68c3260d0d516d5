package dev.qcow2.cli

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

class ConvertCommandSpec extends Specification {
    @TempDir Path dir

    def "convert -O raw is byte-identical to qemu-img (#kind)"() {
        given:
        def img = Images.build(dir, kind)
        def before = Sha256.of(img)
        def out = dir.resolve('ours.raw')

        when:
        def r = Cli.run('convert', '-O', 'raw', img, out)

        then:
        r.exit == 0
        Files.readAllBytes(out) == Qemu.rawBytes(img)
        Sha256.of(img) == before

        where:
        kind << Images.KINDS
    }

    def "a snapshot is exported with -l #spec"() {
        given:
        def img = Images.build(dir, 'snapshots')
        def out = dir.resolve('snap.raw')

        when:
        def r = Cli.run('convert', '-O', 'raw', '-l', spec, img, out)

        then:
        r.exit == 0
        Files.readAllBytes(out) == Qemu.rawBytes(img, spec)

        where:
        spec << ['1', 'two', 'snapshot.name=one', 'snapshot.id=2']
    }

    def "OUT - writes the bytes to stdout"() {
        given:
        def img = Images.build(dir, 'compressed')

        expect:
        Cli.run('convert', '-O', 'raw', img, '-').outBytes == Qemu.rawBytes(img)
    }

    def "an unknown snapshot and an unknown output format are one-line errors"() {
        given:
        def img = Images.build(dir, 'snapshots')

        when:
        def r = Cli.run(args.collect { it == 'IMG' ? img : it == 'OUT' ? dir.resolve('x.raw') : it })

        then:
        r.exit == 1
        r.err.readLines().size() == 1
        r.err.contains(message)

        where:
        args                                              | message
        ['convert', '-l', 'nope', 'IMG', 'OUT']           | 'Failed to load snapshot'
        ['convert', '-O', 'foo', 'IMG', 'OUT']            | "Unknown file format 'foo'"
        ['convert', '-c', '-O', 'raw', 'IMG', 'OUT']      | 'Compression not supported for this file format'
    }
}
