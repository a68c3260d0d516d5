package dev.qcow2.testing

import java.nio.file.Files
import java.nio.file.Path
import java.security.MessageDigest

/**
 * The one SHA-256 of the test suites: every spec that proves a file unchanged (read-only opens,
 * refused writes, undo) or two contents equal compares these. Plain Java I/O only, so modules
 * without groovy-nio can use it.
 */
final class Sha256 {
    private Sha256() { }

    /** SHA-256 of the file's bytes, read in 64 KiB pieces, as lower-case hex. */
    static String of(Path file) {
        def md = MessageDigest.getInstance('SHA-256')
        try (InputStream ins = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16]
            int n
            while ((n = ins.read(buf)) > 0) md.update(buf, 0, n)
        }
        md.digest().encodeHex().toString()
    }

    /** SHA-256 of the first {@code length} bytes of {@code bytes}. */
    static String of(byte[] bytes, long length = bytes.length) {
        def md = MessageDigest.getInstance('SHA-256')
        md.update(bytes, 0, (int) length)
        md.digest().encodeHex().toString()
    }
}
