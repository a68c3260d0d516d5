package dev.qcow2.crypto

import dev.qcow2.Qcow2Exception
import dev.qcow2.amend.AmendOptions
import dev.qcow2.amend.Amender
import dev.qcow2.testing.Qemu
import groovy.json.JsonSlurper
import spock.lang.Specification
import spock.lang.TempDir
import spock.lang.Unroll

import java.nio.file.Files
import java.nio.file.Path

/**
 * Key-slot amendment twins with qemu-img amend 7.2: the same options on two copies of one image
 * leave the same slots active, with the same refusals; the passphrases each slot holds open the
 * image in qemu-io.
 */
class LuksAmendSpec extends Specification {
    @TempDir Path dir

    static final Map<String, String> PASSWORDS = [sec0: 'abc', n1: 'second', n2: 'third', zz0: 'nothing']

    static SecretObjects objects() { new SecretObjects(PASSWORDS.collectEntries { k, v -> [k, Secret.ofString(v)] }) }

    static List<String> objectArgs() { PASSWORDS.collectMany { k, v -> ['--object', "secret,id=$k,data=$v".toString()] } }

    static Qemu.Run qemuAmend(Path f, String opts, String key = 'sec0') {
        Qemu.kdfTimed(['amend'] + objectArgs() + ['--image-opts', "driver=qcow2,file.filename=$f,encrypt.key-secret=$key".toString(), '-o', opts])
    }

    static String oursAmend(Path f, String opts, String key = 'sec0') {
        try {
            Amender.amend(f, AmendOptions.parse([opts]), objects(), SecretLookup.byId(objects().asMap(), [0: key]))
            null
        } catch (Qcow2Exception e) {
            e.message
        }
    }

    static List<Boolean> activeSlots(Path f) {
        new JsonSlurper().parseText(Qemu.img('info', '--output=json', f.toString()).out)['format-specific']['data']['encrypt'].slots*.active
    }

    static boolean opens(Path f, String id) {
        Qemu.run([Qemu.QEMU_IO] + objectArgs() + ['--image-opts', "driver=qcow2,file.filename=$f,encrypt.key-secret=$id".toString(),
                                                   '-c', 'read -P 0x61 0 4096']).out.contains('read 4096/4096')
    }

    def "a sequence of key slot changes gives qemu-img's slots, and every passphrase opens in qemu"() {
        given:
        def base = Qemu.createLuks(dir.resolve('base.qcow2'), '1M', 'encrypt.iter-time=10')
        LuksQemuSpec.qemuWrite(base, 'write -P 0x61 0 4096')
        def ours = Files.copy(base, dir.resolve('ours.qcow2'))
        def theirs = Files.copy(base, dir.resolve('theirs.qcow2'))

        expect:
        steps.every { step ->
            def q = qemuAmend(theirs, step)
            def o = oursAmend(ours, step)
            assert (q.exit == 0) == (o == null): "$step: qemu $q, ours $o"
            if (o != null) assert q.err.contains(o.substring(o.indexOf(': ') + 2)): "$step: qemu ${q.err} vs ours $o"
            assert activeSlots(ours) == activeSlots(theirs): step
            true
        }
        opens(ours, 'n2') && !opens(ours, 'sec0') && opens(ours, 'n1')
        Qemu.run([Qemu.QEMU_IMG, 'check'] + ['--object', 'secret,id=n1,data=second', '--image-opts',
                                             "driver=qcow2,file.filename=$ours,encrypt.key-secret=n1".toString()]).exit == 0

        where:
        steps = ['encrypt.state=active,encrypt.new-secret=n1,encrypt.iter-time=10',
                 'encrypt.state=active,encrypt.new-secret=n2,encrypt.iter-time=10,encrypt.keyslot=5',
                 'encrypt.state=active,encrypt.new-secret=n2,encrypt.keyslot=5,encrypt.iter-time=10',
                 'encrypt.state=inactive,encrypt.keyslot=3',
                 'encrypt.state=inactive,encrypt.keyslot=0,encrypt.old-secret=n1',
                 'encrypt.state=inactive,encrypt.old-secret=sec0',
                 'encrypt.state=inactive,encrypt.old-secret=zz0',
                 'encrypt.state=inactive,encrypt.keyslot=1,encrypt.old-secret=n1']
    }

    @Unroll
    def "refusals are qemu-img's: #opts"() {
        given:
        def base = Qemu.createLuks(dir.resolve('r.qcow2'), '1M', 'encrypt.iter-time=10')
        def before = Files.readAllBytes(base)

        when:
        def message = oursAmend(base, opts)
        def q = qemuAmend(Files.copy(base, dir.resolve('q.qcow2')), opts)

        then:
        message != null
        q.exit != 0
        q.err.contains(message.substring(message.indexOf(': ') + 2))
        Files.readAllBytes(base) == before

        where:
        opts << ['encrypt.new-secret=n1',
                 'encrypt.state=active',
                 'encrypt.state=active,encrypt.new-secret=n1,encrypt.old-secret=sec0',
                 'encrypt.state=active,encrypt.new-secret=n1,encrypt.keyslot=0',
                 'encrypt.state=active,encrypt.new-secret=n1,encrypt.keyslot=8',
                 'encrypt.state=inactive',
                 'encrypt.state=inactive,encrypt.keyslot=0',
                 'encrypt.state=inactive,encrypt.iter-time=10,encrypt.keyslot=0',
                 'encrypt.state=inactive,encrypt.new-secret=n1,encrypt.keyslot=0',
                 'encrypt.state=active,encrypt.new-secret=missing']
    }

    def "a wrong image passphrase changes nothing"() {
        given:
        def base = Qemu.createLuks(dir.resolve('w.qcow2'), '1M', 'encrypt.iter-time=10')
        def before = Files.readAllBytes(base)

        expect:
        oursAmend(base, 'encrypt.state=active,encrypt.new-secret=n1,encrypt.iter-time=10', 'n2').contains('Invalid password, cannot unlock any keyslot')
        Files.readAllBytes(base) == before
    }
}
