package dev.qcow2.cli

import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import groovy.json.JsonSlurper
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardOpenOption

/**
 * A guest writes a qcow2 header into its own raw disk, naming a host file outside the evidence
 * directory. Read with {@code -f raw}, no header is interpreted: the disk's bytes, as qemu-img
 * reads them. Probed (no {@code -f}), the header is read as qcow2 — as qemu-img probes it — but
 * the file it names passes the open gate: it is refused, never opened.
 */
class RawProbeSpec extends Specification {
    @Shared @TempDir Path tmp
    @Shared Path ev
    @Shared Path secret
    @Shared Path disk

    def setupSpec() {
        Path root = tmp.toRealPath()
        ev = Files.createDirectories(root.resolve('ev'))
        Path host = Files.createDirectories(root.resolve('host'))
        secret = Qemu.create(host.resolve('secret.qcow2'), '1M')
        Qemu.io(secret, 'write -P 0x5e 0 64k')
        // what the guest writes: a qcow2 image naming the host file, laid over the start of its raw disk
        Path crafted = Qemu.create(root.resolve('crafted.qcow2'), '1M', null, ['-b', secret.toString(), '-F', 'qcow2'])
        disk = ev.resolve('disk.img')
        Qemu.img('create', '-q', '-f', 'raw', disk.toString(), '4M')
        Qemu.io(disk, ['write -P 0x42 1M 64k'], 'raw')
        Files.newByteChannel(disk, StandardOpenOption.WRITE).withCloseable { it.write(java.nio.ByteBuffer.wrap(Files.readAllBytes(crafted))) }
    }

    def "-f raw: #args reads the disk's bytes, as qemu-img -f raw, and names nothing"() {
        given:
        def before = Sha256.of(disk)
        Path ours = tmp.resolve("ours-${args[0]}.raw")
        Path theirs = tmp.resolve("theirs-${args[0]}.raw")

        when:
        def run = Cli.run(args.collect { it.replace('DISK', disk.toString()).replace('OUT', ours.toString()) })
        def ref = Qemu.run([Qemu.QEMU_IMG] + args.collect { it.replace('DISK', disk.toString()).replace('OUT', theirs.toString()) })

        then:
        run.exit == 0
        ref.exit == 0
        run.err == ''
        json ? AllowBackingSpec.sameJson(run.out, ref.out) : run.out == ref.out
        !Files.exists(theirs) || Arrays.equals(Files.readAllBytes(ours), Files.readAllBytes(theirs))
        Sha256.of(disk) == before

        where:
        args                                              | json
        ['convert', '-f', 'raw', '-O', 'raw', 'DISK', 'OUT'] | false
        ['map', '-f', 'raw', '--output=json', 'DISK']     | true
        ['info', '-f', 'raw', '--output=json', 'DISK']    | true
        ['compare', '-f', 'raw', '-F', 'raw', 'DISK', 'DISK'] | false
    }

    def "probed: #args reads the header as qcow2 but refuses the host file it names (qemu-img would open it)"() {
        given:
        def before = Sha256.of(disk)

        when:
        def run = Cli.run(args.collect { it.replace('DISK', disk.toString()).replace('OUT', tmp.resolve('probed.raw').toString()) })

        then:
        run.exit == 1
        run.err.readLines() == ["qcow2: $disk: backing file $secret is outside $ev (not opened); allow it with --allow-backing=${secret.parent}"]
        Sha256.of(disk) == before
        !Files.exists(tmp.resolve('probed.raw'))

        where:
        args << [['convert', '-O', 'raw', 'DISK', 'OUT'], ['map', 'DISK'], ['check', 'DISK'], ['hash', 'DISK'],
                 ['info', '--backing-chain', 'DISK']]
    }

    def "probed info shows the name the header holds, as qemu-img info does, without opening it"() {
        when:
        def run = Cli.run('info', '--output=json', disk)

        then:
        run.exit == 0
        new JsonSlurper().parseText(run.out)['backing-filename'] == secret.toString()
    }
}
