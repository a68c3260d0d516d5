package dev.qcow2.rescue

import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256

import java.nio.file.Files
import java.nio.file.Path

/** Guest file systems for the rescue specs: ext4 made by mkfs.ext4 -d from files of random bytes; damage as {@link RescueSpec#damage}. */
class RescueFixtures {
    /** An 8 MiB ext4 image (4 KiB blocks) holding {@code files} random files in two directories, seeded by {@code seed}. */
    static Path ext4(Path dir, String name, long seed, int files = 8) {
        def src = dir.resolve("${name}-src")
        randomFiles(src, seed, files, 150_000)
        def raw = dir.resolve("${name}.raw")
        new RandomAccessFile(raw.toFile(), 'rw').withCloseable { it.setLength(8L << 20) }
        run(['mkfs.ext4', '-q', '-F', '-b', '4096', '-d', src.toString(), raw.toString()])
        raw
    }

    /**
     * {@code files} files of random bytes (1000 + up to {@code maxExtra} bytes each, seeded by
     * {@code seed}) under {@code src}: fN, docs/fN and docs/deep/fN. Returns path (relative to
     * {@code src}) → sha256, the rescue specs' measure of a file that came back intact.
     */
    static Map<String, String> randomFiles(Path src, long seed, int files, int maxExtra) {
        Files.createDirectories(src.resolve('docs/deep'))
        def rnd = new Random(seed)
        Map<String, String> sha = [:]
        (1..files).each { i ->
            byte[] b = new byte[1000 + rnd.nextInt(maxExtra)]
            rnd.nextBytes(b)
            String name = i % 3 == 0 ? "docs/deep/f$i" : i % 2 == 0 ? "docs/f$i" : "f$i"
            Files.write(src.resolve(name), b)
            sha[name] = Sha256.of(b)
        }
        sha
    }

    static void run(List<String> cmd) {
        def r = Qemu.run(cmd)
        assert r.exit == 0: "${cmd[0]} failed: ${r.err}"
    }

    /** sha256 of an image's whole guest, read by qemu-img (secret objects and --image-opts as given). */
    static String guestSha(Path dir, List<String> imageArgs) {
        def raw = Files.createTempFile(dir, 'guest', '.raw')
        Qemu.img(['convert', '-O', 'raw'] + imageArgs + [raw.toString()])
        def sha = Sha256.of(Files.readAllBytes(raw))
        Files.delete(raw)
        sha
    }

    /**
     * An overlay of {@code base} (qcow2) whose guest is {@code changed}: the {@code block}-byte
     * blocks where {@code changed} differs from {@code baseRaw} written with qemu-io, in guest
     * order or shuffled (seeded); partial-cluster writes make QEMU copy the rest from the base.
     */
    static Path overlay(Path dir, Path base, Path baseRaw, Path changed, String name, boolean shuffled, int block = 4096) {
        def ov = dir.resolve(name)
        Qemu.img('create', '-q', '-f', 'qcow2', '-b', base.toString(), '-F', 'qcow2', ov.toString())
        byte[] a = Files.readAllBytes(baseRaw), b = Files.readAllBytes(changed)
        List<Integer> diffs = []
        for (int k = 0; k < b.length; k += block) {
            if (!Arrays.equals(a, k, k + block, b, k, k + block)) diffs << k
        }
        if (shuffled) Collections.shuffle(diffs, new Random(7))
        def chunks = Files.createTempDirectory(dir, 'blocks')
        List<String> cmds = diffs.collect { k ->
            def f = chunks.resolve("b$k")
            Files.write(f, Arrays.copyOfRange(b, k, k + block))
            "write -s $f $k $block".toString()
        }
        cmds.collate(400).each { Qemu.io(ov, it) }
        chunks.toFile().deleteDir()
        ov
    }

    /** A copy of {@code raw} with {@code debugfs -w} commands applied (write/rm files). */
    static Path edited(Path dir, Path raw, String name, List<String> debugfsCommands) {
        def out = dir.resolve(name)
        Files.copy(raw, out)
        debugfsCommands.each { c -> run(['debugfs', '-w', '-R', c, out.toString()]) }
        out
    }
}
