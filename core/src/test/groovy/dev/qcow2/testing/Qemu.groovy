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
    /** qemu-io takes its lock after start-up; poll with qemu-img info until the lock is seen (30 s). */
    static void waitUntilLocked(Path img, Process holder = null) {
        long deadline = System.nanoTime() + 30_000_000_000L
        while (System.nanoTime() < deadline) {
            if (holder != null && !holder.alive) {
                throw new AssertionError("qemu-io exited (status ${holder.exitValue()}) before it locked $img: ${holder.err.text.trim()}")
            }
            // Tested with F_OFD_GETLK (our lock check), which holds no lock itself. A `qemu-img info`
            // probe did, for the moment it ran: a qemu-io opening the image at that moment failed
            // with "Failed to get "write" lock" (the WriteLockSpec/ForceShareSpec flake).
            try {
                dev.qcow2.storage.WritableFileStorage.refuseReadingBesideWriter(img)
            } catch (IOException e) {
                if (e.message?.contains('lock')) return
                throw e
            }
            Thread.sleep(50)
        }
        throw new AssertionError("qemu-io did not lock $img" + (holder != null ? " (still running)" : ''))
    }

    /**
     * A qemu-io that opens {@code img} for writing and holds it (its stdin kept open, output
     * discarded), once it holds the lock.
     */
    static Process holdForWriting(Path img, long millis = 60_000) {
        def p = new ProcessBuilder(QEMU_IO, '-f', 'qcow2', '-c', "sleep $millis".toString(), img.toString())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
        waitUntilLocked(img, p)
        p
    }

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
        if (extra.isEmpty() && deterministicCreate(options)) {
            // same options, same bytes: the first create in this JVM is kept and later ones copy it
            Path template = PLAIN_TEMPLATES.computeIfAbsent((args + [size]).join('\u0000')) { k ->
                Path t = templateDir().resolve("p${PLAIN_TEMPLATES.size()}-${UUID.randomUUID()}.qcow2")
                def r = run([QEMU_IMG] + args + [t.toString(), size], t.parent.toFile())
                assert r.exit == 0: "qemu-img ${(args + [file.toString(), size]).join(' ')} failed: $r"
                t
            }
            Files.copy(template, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING)
            return file
        }
        args += [file.toAbsolutePath().toString(), size]
        def r = run([QEMU_IMG] + args, file.toAbsolutePath().parent.toFile())
        assert r.exit == 0: "qemu-img ${args.join(' ')} failed: $r"
        file
    }

    /**
     * qemu-img create of a plain qcow2 writes the same bytes for the same options (no time, no
     * random salt), so a copy is the image qemu-img makes. Not for options that name other files
     * (data_file, backing_file) or that shape the host file beyond its bytes (preallocation: holes
     * or allocated extents; extent_size_hint: a file-system attribute), nor for encryption (random
     * keys: {@link #createEncrypted}).
     */
    private static boolean deterministicCreate(String options) {
        !options || !['data_file', 'backing_file', 'preallocation', 'extent_size_hint', 'encrypt', 'encryption'].any { options.contains(it) }
    }

    private static final Map<String, Path> PLAIN_TEMPLATES = new java.util.concurrent.ConcurrentHashMap<>()

    /** The secret object the LUKS helpers use (passphrase "abc", id sec0). */
    static final List<String> LUKS_SECRET = ['--object', 'secret,id=sec0,data=abc']

    /**
     * qemu-img create of a LUKS-encrypted qcow2 (secret {@link #LUKS_SECRET}), through
     * {@link #createEncrypted}.
     */
    static Path createLuks(Path file, String size, String extraOptions = null) {
        def opts = 'encrypt.format=luks,encrypt.key-secret=sec0' + (extraOptions ? ',' + extraOptions : '')
        createEncrypted(file, ['create', '-q', '-f', 'qcow2'] + LUKS_SECRET + ['-o', opts], size)
    }

    /** "Unable to get accurate CPU usage": qemu's PBKDF2 calibration measured 0 ms of thread CPU. */
    static boolean calibrationFailed(Run r) { r.exit != 0 && r.err.contains('Unable to get accurate CPU usage') }

    /**
     * A qemu-img command that times PBKDF2 first (create, measure, amend, convert to LUKS).
     * qemu-img measures its key-derivation speed with getrusage(RUSAGE_THREAD) and gives up when
     * it reads 0 ms ({@code qcrypto_pbkdf2_count_iters}); on a busy machine with tick-based CPU
     * accounting that happens in runs. It is not what any spec tests, so it is retried with a
     * growing pause (up to ~2 minutes in all) before the spec fails.
     */
    static Run kdfTimed(List<String> args, File dir = null) {
        Run last = null
        for (int attempt = 0; attempt < 40; attempt++) {
            last = run([QEMU_IMG] + args, dir)
            if (!calibrationFailed(last)) return last
            Thread.sleep(Math.min(5_000, 100L * (attempt + 1)))
        }
        assert false: "qemu-img ${args.join(' ')}: PBKDF2 calibration failed 40 times: $last"
        last
    }

    private static final Map<String, Path> ENCRYPTED_TEMPLATES = new java.util.concurrent.ConcurrentHashMap<>()
    private static Path templateDir

    private static synchronized Path templateDir() {
        if (templateDir == null) {
            templateDir = Files.createTempDirectory('qemu-encrypted-templates')
            Path d = templateDir
            Runtime.runtime.addShutdownHook(new Thread({ d.toFile().deleteDir() }))
        }
        templateDir
    }

    /**
     * {@code qemu-img ARGS FILE SIZE} for an encrypted image (args up to the file name; asserts
     * success). Each PBKDF2 calibration costs qemu-img about a second of CPU, so the first create
     * of a given argument list in this JVM is kept as a template and later ones copy it: a copy is
     * an image qemu-img made with those options (its salts and master key are shared with the
     * other copies, which no spec relies on being distinct). Lists naming other files (a backing
     * file, a data file) are not cached, since their meaning depends on the directory.
     */
    static Path createEncrypted(Path file, List<String> argsBeforeFile, String size) {
        List<String> args = argsBeforeFile.collect { it.toString() }
        boolean cacheable = !args.any { it == '-b' || it == '-F' || it.contains('data_file') || it.contains('backing_file') }
        if (!cacheable) {
            def r = kdfTimed(args + [file.toString(), size])
            assert r.exit == 0: "qemu-img ${args.join(' ')} failed: $r"
            return file
        }
        String key = (args + [size]).join('\u0000')
        Path template = ENCRYPTED_TEMPLATES.computeIfAbsent(key) { k ->
            Path t = templateDir().resolve("t${ENCRYPTED_TEMPLATES.size()}-${UUID.randomUUID()}.qcow2")
            def r = kdfTimed(args + [t.toString(), size])
            assert r.exit == 0: "qemu-img ${args.join(' ')} failed: $r"
            t
        }
        Files.copy(template, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING)
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
