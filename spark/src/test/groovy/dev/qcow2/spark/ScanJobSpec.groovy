package dev.qcow2.spark

import dev.qcow2.scan.ImageScan
import dev.qcow2.scan.LocalScanFiles
import dev.qcow2.scan.ScanOptions
import dev.qcow2.scan.ScanTargets
import dev.qcow2.testing.Fleet
import dev.qcow2.testing.Qemu
import groovy.json.JsonSlurper
import org.apache.spark.sql.SparkSession
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * The Spark job in local mode gives exactly the records of the local scan (the CLI's: the same
 * walk and ImageScan over local files) for a directory of 50+ mixed images ({@link Fleet}), the
 * images read on the executors through HadoopStorage. One local[2] session for the whole spec
 * (Spark's start-up is most of its time).
 */
class ScanJobSpec extends Specification {
    @Shared @TempDir Path tmp
    @Shared Path fleet
    @Shared SparkSession spark
    @Shared ScanOptions options = new ScanOptions(['sha256'], true, true)

    def setupSpec() {
        Qemu.requireTools()
        fleet = tmp.resolve('fleet')
        Fleet.build(fleet, 8)
        spark = SparkSession.builder().master('local[2]').appName('ScanJobSpec')
                .config('spark.ui.enabled', 'false').getOrCreate()
    }

    def cleanupSpec() {
        spark?.stop()
    }

    /** The local scan's JSON lines, timing zeroed. */
    List<String> localScan(List<String> paths) {
        ScanTargets.local(paths).collectMany { t ->
            ImageScan.scan(LocalScanFiles.INSTANCE, t.path(), t.named(), options).map { untimed(it.jsonLine()) }.stream().toList()
        }
    }

    def "local[2] over 50+ mixed images gives exactly the local scan's records, in the same order"() {
        given:
        List<String> args = [fleet.toString(), fleet.resolve('notes.txt').toString()]
        def expected = localScan(args)

        when:
        def lines = ScanJob.jsonLines(spark, ScanJob.records(spark, args, options)).collectAsList().collect { untimed(it) }

        then:
        expected.size() >= 50
        lines == expected
        def kinds = expected.collect { new JsonSlurper().parseText(it) }
        kinds.count { it.check?.leaks > 0 } == 8
        kinds.count { it.check?.corruptions > 0 } == 8
        kinds.count { it.snapshots && it.snapshots[0].hashes } == 8
        kinds.count { it.path.endsWith('dangling.qcow2') && it.error?.endsWith('No such file or directory') } == 1
        kinds.count { it.path.endsWith('orphan.qcow2') && it.error?.startsWith('hash: ') } == 1
        kinds.count { it.error } == 2
        kinds.count { it.format == 'raw' } == 1
    }

    def "a file: URI lists and scans the same files; the records name them as a local scan does"() {
        when:
        def lines = ScanJob.jsonLines(spark, ScanJob.records(spark, [fleet.toUri().toString()], options))
                .collectAsList().collect { untimed(it) }

        then:
        lines == localScan([fleet.toString()])
    }

    def "HadoopStorage reads positionally, zeros past the end, as FileStorage does"() {
        given:
        Path f = tmp.resolve('bytes.bin')
        byte[] data = (0..<1000).collect { (byte) it } as byte[]
        Files.write(f, data)
        def files = new HadoopScanFiles([:])

        when:
        def s = files.open(f.toString())
        byte[] mid = s.read(990, 20)

        then:
        s.size() == 1000
        mid[0..9] == data[990..999]
        mid[10..19].every { it == 0 }

        cleanup:
        s?.close()
    }

    def "open refuses a directory and a missing file with one line, as the local scan does"() {
        given:
        def files = new HadoopScanFiles([:])

        when:
        files.open(path.replace('TMP', tmp.toString()))

        then:
        def e = thrown(dev.qcow2.Qcow2Exception)
        e.message.endsWith(message)

        where:
        path              | message
        'TMP'             | 'Is a directory'
        'TMP/none.qcow2'  | 'No such file or directory'
    }

    static String untimed(String line) { line.replaceAll(/"scan_ms":\d+/, '"scan_ms":0') }
}
