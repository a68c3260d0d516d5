package dev.qcow2.image

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Qemu

import java.nio.file.Files
import java.nio.file.Path

/** sha256 of every regular file under a directory, to show that reading changed nothing. */
class FileHashes {
    static Map<String, String> of(Path dir) {
        def out = new TreeMap<String, String>()
        Files.walk(dir).withCloseable { s ->
            s.filter { Files.isRegularFile(it) }.forEach { out[dir.relativize(it).toString()] = Sha256.of(it) }
        }
        out
    }
}
