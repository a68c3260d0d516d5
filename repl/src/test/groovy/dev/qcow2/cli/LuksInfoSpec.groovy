package dev.qcow2.cli

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir
import spock.lang.Unroll

import java.nio.file.Path

/** `qcow2 info` of encrypted images shows the LUKS header exactly as qemu-img info does (no key needed). */
class LuksInfoSpec extends Specification {
    @TempDir Path dir

    @Unroll
    def "info of a LUKS image (#opts) equals qemu-img info in both forms"() {
        given:
        def f = Qemu.createLuks(dir.resolve('l.qcow2'), '1M', 'encrypt.iter-time=10' + (opts ? ",$opts" : ''))

        expect:
        Cli.run('info', f.toString()).out.readLines().drop(1) == Qemu.img('info', f.toString()).out.readLines().drop(1)
        Cli.run('info', '--output=json', f.toString()).out == Qemu.img('info', '--output=json', f.toString()).out

        where:
        opts << [null, 'encrypt.cipher-alg=twofish-128,encrypt.cipher-mode=cbc,encrypt.ivgen-alg=essiv,encrypt.ivgen-hash-alg=md5']
    }
}
