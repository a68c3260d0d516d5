package dev.qcow2.chain

import dev.qcow2.testing.Sha256

import dev.qcow2.Qcow2Exception
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * Commit and rebase refuse bad input with one line naming the problem, before writing: every
 * file of the chain keeps its bytes.
 */
class ChainBadInputSpec extends Specification {
    @TempDir Path dir

    def "#what is refused without writing anything"() {
        given:
        Chains.build(dir, [['base.qcow2', '', '1M', ['write -P 0x11 0 1M']], ['top.qcow2', '', '1M', ['write -P 0x33 0 64k']]])
        Qemu.create(dir.resolve('alone.qcow2'), '1M')
        Qemu.img('create', '-q', '-f', 'raw', dir.resolve('plain.raw').toString(), '1M')
        prepare(dir)
        def before = hashes()

        when:
        action(dir)

        then:
        def e = thrown(Qcow2Exception)
        e.message.readLines().size() == 1
        e.message.replace(dir.toString() + '/', '') ==~ message
        hashes() == before

        where:
        what                                 | prepare                   | action                                                                           | message
        'commit of an image without backing' | { }                       | { Commit.commit(it.resolve('alone.qcow2'), new Commit.Options(null, false), Progress.NONE) } | 'Image does not have a backing file'
        'commit onto a base not in the chain'| { }                       | { Commit.commit(it.resolve('top.qcow2'), new Commit.Options('alone.qcow2', false), Progress.NONE) } | "Did not find 'alone.qcow2' in the backing chain of 'top.qcow2'"
        'commit with a missing backing file' | { Files.delete(it.resolve('base.qcow2')) } | { Commit.commit(it.resolve('top.qcow2'), new Commit.Options(null, false), Progress.NONE) } | /top.qcow2: Could not open backing file: .*No such file or directory/
        'commit in a backing loop'           | { loop(it) }              | { Commit.commit(it.resolve('top.qcow2'), new Commit.Options(null, false), Progress.NONE) } | /.*infinite loop.*/
        'rebase onto a missing file'         | { }                       | { Rebase.rebase(it.resolve('top.qcow2'), new Rebase.Options('nope.qcow2', 'qcow2', false), Progress.NONE) } | "Could not open new backing file 'nope.qcow2': Could not open 'nope.qcow2': No such file or directory"
        'rebase onto itself'                 | { }                       | { Rebase.rebase(it.resolve('top.qcow2'), new Rebase.Options('top.qcow2', 'qcow2', false), Progress.NONE) } | /Could not open new backing file 'top.qcow2': .*backing loop.*/
        'rebase making a loop'               | { }                       | { Rebase.rebase(it.resolve('base.qcow2'), new Rebase.Options('top.qcow2', 'qcow2', false), Progress.NONE) } | /Could not open new backing file 'top.qcow2': .*backing loop.*/
        'rebase of an image in a loop'       | { loop(it) }              | { Rebase.rebase(it.resolve('top.qcow2'), new Rebase.Options('alone.qcow2', 'qcow2', false), Progress.NONE) } | /.*infinite loop.*/
        'rebase with a missing old backing'  | { Files.delete(it.resolve('base.qcow2')) } | { Rebase.rebase(it.resolve('top.qcow2'), new Rebase.Options('alone.qcow2', 'qcow2', false), Progress.NONE) } | /top.qcow2: Could not open backing file: .*No such file or directory/
        'rebase without a format'            | { }                       | { Rebase.rebase(it.resolve('top.qcow2'), new Rebase.Options('alone.qcow2', null, true), Progress.NONE) } | "Could not change the backing file to 'alone.qcow2': backing format must be specified"
        'rebase with an unknown format'      | { }                       | { Rebase.rebase(it.resolve('top.qcow2'), new Rebase.Options('alone.qcow2', 'foo', false), Progress.NONE) } | "Invalid format name: 'foo'"
        'rebase onto raw read as qcow2'      | { }                       | { Rebase.rebase(it.resolve('top.qcow2'), new Rebase.Options('plain.raw', 'qcow2', false), Progress.NONE) } | /Could not open new backing file 'plain.raw': .*/
        'a name that does not fit'           | { }                       | { Rebase.rebase(it.resolve('top.qcow2'), new Rebase.Options('n' * 1024, 'raw', true), Progress.NONE) } | /top.qcow2: Could not change the backing file to 'n+': Invalid argument/
    }

    /** base.qcow2 names top.qcow2 as its backing file: top → base → top. */
    static void loop(Path dir) {
        Qemu.img('rebase', '-u', '-b', 'top.qcow2', '-F', 'qcow2', dir.resolve('base.qcow2').toString())
    }

    private Map<String, String> hashes() {
        Files.list(dir).withCloseable { s -> s.toList().collectEntries { [(it.fileName.toString()): Sha256.of(it)] } }
    }
}
