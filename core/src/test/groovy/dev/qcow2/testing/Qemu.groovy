package dev.qcow2.testing

import groovy.json.JsonSlurper

import java.nio.file.Files
import java.nio.file.Path
import java.security.MessageDigest

/**
 * Runs the reference tools (qemu-img, qemu-io) for cross-checks. A missing tool is a test
 * failure, never a skip: CI must install qemu-utils.
 */
class Qemu {
    static final String QEMU_IMG = locate('qemu-img')
    static final String QEMU_IO = locate('qemu-io')

    private static String locate(String tool) {
        for (dir in (System.getenv('PATH') ?: '/usr/bin').split(':')) {
            def f = new File(dir, tool)
            if (f.canExecute()) return f.path
        }
        return null
    }

    static void requireTools() {
        assert QEMU_IMG != null: 'qemu-img not found on PATH: install qemu-utils (apt-get install -y qemu-utils)'
        assert QEMU_IO != null: 'qemu-io not found on PATH: install qemu-utils (apt-get install -y qemu-utils)'
    }

    /** Result of one tool run. */
    static class Run {
        int exit
        String out
        String err
        byte[] outBytes

        Object json() { new JsonSlurper().parseText(out) }

        String toString() { "exit=$exit\nstdout=$out\nstderr=$err" }
    }

    static Run run(List<String> cmd, File dir = null) {
        requireTools()
        def pb = new ProcessBuilder(cmd.collect { it.toString() })
        if (dir != null) pb.directory(dir)
        def p = pb.start()
        p.outputStream.close()
        def outBytes = new ByteArrayOutputStream()
        def errBytes = new ByteArrayOutputStream()
        def t1 = Thread.start { outBytes << p.inputStream }
        def t2 = Thread.start { errBytes << p.errorStream }
        int exit = p.waitFor()
        t1.join(); t2.join()
        new Run(exit: exit, out: outBytes.toString('UTF-8'), err: errBytes.toString('UTF-8'), outBytes: outBytes.toByteArray())
    }

    /** qemu-img with arguments; asserts success unless {@code check} is false. */
    static Run img(List<String> args, boolean check = true) {
        def r = run([QEMU_IMG] + args)
        if (check) assert r.exit == 0: "qemu-img ${args.join(' ')} failed: $r"
        r
    }

    static Run img(String... args) { img(args as List<String>) }

    /** qemu-io -f FMT FILE -c CMD ...; asserts success. */
    static Run io(Path file, List<String> commands, String format = 'qcow2') {
        def args = [QEMU_IO, '-f', format]
        commands.each { args += ['-c', it] }
        args << file.toString()
        def r = run(args)
        assert r.exit == 0 && !r.out.contains('error') && !r.err: "qemu-io ${commands} failed: $r"
        r
    }

    static Run io(Path file, String... commands) { io(file, commands as List<String>) }

    /**
     * qemu-img create -f qcow2 [-o OPTS] FILE SIZE, run in FILE's directory: a relative
     * data_file (which qemu-img creates relative to its working directory) lands beside the
     * image, where opening the image looks for it, and never in the module's directory.
     */
    static Path create(Path file, String size, String options = null, List<String> extra = []) {
        def args = ['create', '-q', '-f', 'qcow2']
        if (options) args += ['-o', options]
        args += extra
        args += [file.toAbsolutePath().toString(), size]
        def r = run([QEMU_IMG] + args, file.toAbsolutePath().parent.toFile())
        assert r.exit == 0: "qemu-img ${args.join(' ')} failed: $r"
        file
    }

    /** The secret object the LUKS helpers use (passphrase "abc", id sec0). */
    static final List<String> LUKS_SECRET = ['--object', 'secret,id=sec0,data=abc']

    /**
     * qemu-img create of a LUKS-encrypted qcow2. qemu-img times its key derivation with
     * getrusage and, on a loaded machine, sometimes measures 0 ms and gives up ("Unable to get
     * accurate CPU usage"); that is retried, since it is not what any spec tests.
     */
    static Path createLuks(Path file, String size, String extraOptions = null) {
        def opts = 'encrypt.format=luks,encrypt.key-secret=sec0' + (extraOptions ? ',' + extraOptions : '')
        def args = ['create', '-q', '-f', 'qcow2'] + LUKS_SECRET + ['-o', opts, file.toString(), size]
        Run last = null
        for (int attempt = 0; attempt < 10; attempt++) {
            last = img(args, false)
            if (last.exit == 0) return file
            assert last.err.contains('Unable to get accurate CPU usage'): "qemu-img ${args.join(' ')} failed: $last"
        }
        assert false: "qemu-img could not create a LUKS image in 10 tries: $last"
        file
    }

    /** The guest-visible bytes as qemu-img sees them (convert -O raw). */
    static byte[] rawBytes(Path image, String snapshot = null) {
        def out = Files.createTempFile(image.parent, 'ref', '.raw')
        def args = ['convert', '-O', 'raw']
        if (snapshot) args += ['-l', snapshot]
        args += [image.toString(), out.toString()]
        img(args)
        def bytes = Files.readAllBytes(out)
        Files.delete(out)
        bytes
    }

}
