package dev.qcow2.testing

import dev.qcow2.crypto.Secret
import dev.qcow2.crypto.SecretLookup

import java.nio.file.Files
import java.nio.file.Path

/**
 * qemu-img / qemu-io on encrypted images, with qemu's secret syntax: {@code --object
 * secret,id=ID,data=PW} and {@code --image-opts driver=qcow2,file.filename=F,encrypt.key-secret=ID}.
 */
class EncryptedImages {
    static List<String> secret(String id, String pw) { ['--object', "secret,id=$id,data=$pw".toString()] }

    static String imageOpts(Path file, String id, String extra = '') {
        "driver=qcow2,file.filename=${file},encrypt.key-secret=${id}${extra ? ',' + extra : ''}".toString()
    }

    /** The -o options of an encryption kind: aes, luks (qemu's default aes-256-xts-plain64), luks-aes128-cbc-essiv, luks-aes256-cbc-plain. */
    static String formatOptions(String kind) {
        switch (kind) {
            case 'aes': return 'encrypt.format=aes'
            case 'luks': return 'encrypt.format=luks,encrypt.iter-time=10'
            case 'luks-aes128-cbc-essiv': return 'encrypt.format=luks,encrypt.iter-time=10,encrypt.cipher-alg=aes-128,encrypt.cipher-mode=cbc,encrypt.ivgen-alg=essiv,encrypt.ivgen-hash-alg=sha256'
            case 'luks-aes256-cbc-plain': return 'encrypt.format=luks,encrypt.iter-time=10,encrypt.cipher-alg=aes-256,encrypt.cipher-mode=cbc,encrypt.ivgen-alg=plain'
            default: throw new IllegalArgumentException("unknown encryption kind $kind")
        }
    }

    /**
     * qemu-img create of an encrypted qcow2 ({@code format}: a kind of {@link #formatOptions}, PBKDF2 kept short);
     * created through {@link Qemu#createEncrypted} (calibration failures retried, templates reused).
     */
    static Path create(Path file, String size, String format, String pw, String options = null, String id = 's0', List<String> extra = []) {
        def opts = formatOptions(format) + ",encrypt.key-secret=$id" + (options ? ',' + options : '')
        Qemu.createEncrypted(file, ['create', '-q', '-f', 'qcow2'] + secret(id, pw) + extra + ['-o', opts.toString()], size)
    }

    /**
     * The same image made by our {@code ImageCreator} (the options of {@link #create}): for specs about
     * what is written or read after creation, where who wrote the LUKS header is not the point.
     * Every create by qemu-img measures PBKDF2 speed (about a second of CPU, twice); ours measures
     * once per test JVM. qemu-made headers are covered by LuksQemuSpec, our headers against qemu's
     * by LuksCreateSpec.
     */
    static Path createByUs(Path file, String size, String format, String pw, String options = null, String id = 's0') {
        def opts = formatOptions(format) + ",encrypt.key-secret=$id" + (options ? ',' + options : '')
        def list = new dev.qcow2.create.OptionList().add(opts.toString()).add("size=$size".toString())
        dev.qcow2.create.ImageCreator.create(file, dev.qcow2.create.ImageCreator.validate(file, list),
                new dev.qcow2.crypto.SecretObjects([(id): Secret.ofString(pw)]))
        file
    }

    /** qemu-io on the encrypted image; asserts success. {@code objects}: more secrets (backing layers). */
    static Qemu.Run io(Path file, String pw, List<String> commands, String id = 's0', List<String> objects = [], String extraOpts = '') {
        def args = [Qemu.QEMU_IO] + secret(id, pw) + objects + ['--image-opts', imageOpts(file, id, extraOpts)]
        commands.each { args += ['-c', it] }
        def r = Qemu.run(args)
        assert r.exit == 0 && !r.out.contains('error') && !r.out.contains('failed') && !r.err: "qemu-io ${commands} failed: $r"
        r
    }

    /** The guest bytes as qemu-img reads them with the secret (convert -O raw [-l snapshot]). */
    static byte[] raw(Path file, String pw, String snapshot = null, String id = 's0', List<String> objects = []) {
        def out = Files.createTempFile(file.parent, 'ref', '.raw')
        def args = ['convert', '-O', 'raw'] + secret(id, pw) + objects
        if (snapshot) args += ['-l', "snapshot.name=$snapshot".toString()]
        args += ['--image-opts', imageOpts(file, id), out.toString()]
        Qemu.img(args)
        def bytes = Files.readAllBytes(out)
        Files.delete(out)
        bytes
    }

    /** qemu-img check --output=json with the secret (not asserted). */
    static Qemu.Run check(Path file, String pw, String id = 's0') {
        Qemu.img(['check', '--output=json'] + secret(id, pw) + ['--image-opts', imageOpts(file, id)], false)
    }

    /** qemu-img map --output=json with the secret. */
    static Object map(Path file, String pw, String id = 's0', List<String> objects = []) {
        Qemu.img(['map', '--output=json'] + secret(id, pw) + objects + ['--image-opts', imageOpts(file, id)]).json()
    }

    /**
     * Stores {@code stream} as the VM state of a new snapshot {@code name} of the encrypted image
     * (secret id s0), the way savevm would: QEMU's own vmstate write path (qemu-io {@code write -b},
     * which encrypts; whole sectors, since qemu-system 7.2's savevm aborts on encrypted images for
     * lengths that are not), then qemu-img snapshot -c (its L1 maps the state), then the entry's
     * vm_state_size fields (qcow2.rst "Snapshot table": 32-bit at +32, 64-bit extra data at +40).
     */
    static Path storeVmState(Path image, String pw, byte[] stream, String name, String id = 's0') {
        long padded = (stream.length + 511) & ~511L
        Path source = Files.createTempFile(image.parent, 'vmstate', '.bin')
        Files.write(source, Arrays.copyOf(stream, (int) padded))
        io(image, pw, ["write -b -s ${source} 0 ${padded}".toString()], id)
        Files.delete(source)
        Qemu.img(['snapshot', '-c', name] + secret(id, pw) + ['--image-opts', imageOpts(image, id)])
        new RandomAccessFile(image.toFile(), 'rw').withCloseable { f ->
            f.seek(60); int count = f.readInt()
            f.seek(64); long entry = f.readLong()
            for (int i = 0; i < count - 1; i++) {   // the new snapshot is the last entry
                f.seek(entry + 12); int idLen = f.readUnsignedShort(); int nameLen = f.readUnsignedShort()
                f.seek(entry + 36); int extra = f.readInt()
                entry += ((40 + extra + idLen + nameLen) + 7) & ~7
            }
            f.seek(entry + 36); int extra = f.readInt()
            assert extra >= 16: 'qemu-img 7.2 writes the 64-bit vm_state_size extra field'
            f.seek(entry + 32); f.writeInt((int) stream.length)
            f.seek(entry + 40); f.writeLong(stream.length)
        }
        image
    }

    static SecretLookup top(String pw) { SecretLookup.topOnly(Secret.ofString(pw)) }
}
