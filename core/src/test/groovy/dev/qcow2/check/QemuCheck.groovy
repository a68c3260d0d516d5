package dev.qcow2.check

import dev.qcow2.image.OpenOptions
import dev.qcow2.image.Qcow2Image
import dev.qcow2.testing.Qemu

import java.nio.file.Files
import java.nio.file.Path
import java.security.MessageDigest

/** Runs qemu-img check and our checker on the same file, for comparing counters. */
class QemuCheck {
    static final List<String> COUNTERS = ['check-errors', 'corruptions', 'leaks', 'total-clusters',
                                          'allocated-clusters', 'fragmented-clusters', 'compressed-clusters',
                                          'image-end-offset']

    /** qemu-img check --output=json (never -r): exit code and counters (missing ones are 0; empty if no report). */
    static Map reference(Path file, List<String> extra = []) {
        def r = Qemu.img(['check', '--output=json'] + extra + [file.toString()], false)
        Map counters = [:]
        if (r.out.trim()) {
            def json = r.json()
            COUNTERS.each { counters[it] = (json[it] ?: 0) as long }
        }
        [exit: r.exit, counters: counters, stderr: r.err]
    }


    static CheckReport ours(Path file) {
        Qcow2Image.open(file, OpenOptions.forChecking()).withCloseable { ImageChecker.check(it) }
    }

    /** Our counters in qemu-img's JSON names; empty when the check did not complete (qemu prints no report then). */
    static Map counters(CheckReport r) {
        if (!r.completed()) return [:]
        ['check-errors'       : r.checkErrors(), 'corruptions': r.corruptions(), 'leaks': r.leaks(),
         'total-clusters'     : r.totalClusters(), 'allocated-clusters': r.allocatedClusters(),
         'fragmented-clusters': r.fragmentedClusters(), 'compressed-clusters': r.compressedClusters(),
         'image-end-offset'   : r.imageEndOffset()]
    }
}
