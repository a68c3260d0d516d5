package dev.qcow2.notebook

import dev.qcow2.testing.Sha256

import dev.qcow2.check.Finding
import dev.qcow2.check.ImageChecker
import dev.qcow2.create.CreateOptions
import dev.qcow2.create.ImageCreator
import dev.qcow2.image.OpenOptions
import dev.qcow2.image.Qcow2Image
import dev.qcow2.notebook.charts.Charts
import dev.qcow2.notebook.charts.ClusterKind
import dev.qcow2.notebook.charts.GuestKind
import dev.qcow2.notebook.charts.HostClusters
import dev.qcow2.notebook.charts.Png
import dev.qcow2.write.Qcow2Writer
import dev.qcow2.write.WriteOptions
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import javax.imageio.ImageIO
import java.awt.image.BufferedImage
import java.nio.file.Files
import java.nio.file.Path

import static dev.qcow2.notebook.DemoImages.CLUSTER

/** Cluster classification against the checker and qemu-img, the maps' aggregation, and every chart as a PNG. */
class ChartsSpec extends Specification {
    @Shared @TempDir Path dir
    @Shared Path damaged, timeline
    @Shared Map<Path, String> shas = [:]

    def setupSpec() {
        damaged = DemoImages.damaged(dir.resolve('damaged.qcow2'))
        timeline = DemoImages.timeline(dir.resolve('timeline.qcow2'))
        [damaged, timeline].each { shas[it] = Sha256.of(it) }
    }

    def cleanupSpec() { shas.each { p, sha -> assert Sha256.of(p) == sha: "$p changed" } }

    static List<Long> qemuLeaks(Path img) {
        def p = new ProcessBuilder('qemu-img', 'check', img.toString()).redirectErrorStream(true).start()
        String out = p.inputStream.text
        p.waitFor()
        (out =~ /Leaked cluster (\d+) /).collect { it[1] as long }
    }

    def "host clusters of the damaged image: leaks and mismatches as ImageChecker and qemu-img check find them"() {
        when:
        def scan = Qcow2Image.open(damaged, OpenOptions.forChecking()).withCloseable { ImageChecker.scan(it, {}) }
        HostClusters h = Charts.hostClusters(damaged)
        def counts = h.counts()
        def byKind = { ClusterKind k -> (0..<h.size()).findAll { h.kind(it) == k } as List<Long> }
        def leakFindings = scan.report().findings().findAll { it.type() == Finding.Type.LEAKED_CLUSTER }*.cluster()
        def tooLow = scan.report().findings().findAll { it.type() == Finding.Type.REFCOUNT_TOO_LOW }*.cluster()

        then: 'leaked clusters are exactly the checker leaks (and qemu-img agrees)'
        scan.report().leaks() == 2
        counts[ClusterKind.LEAKED] == scan.report().leaks()
        byKind(ClusterKind.LEAKED) == leakFindings
        byKind(ClusterKind.LEAKED) == qemuLeaks(damaged)

        and: 'the cluster whose refcount is too low is the one the checker names, and it is data'
        (0..<h.size()).findAll { h.refcount(it) >= 0 && h.refcount(it) < h.references(it) } == tooLow
        tooLow.size() == 1 && h.kind(tooLow[0]) == ClusterKind.DATA

        and: 'every referenced cluster is named by the walk; unreferenced ones are leaked or free'
        (0..<h.size()).every { (h.references(it) > 0) == !(h.kind(it) in [ClusterKind.LEAKED, ClusterKind.FREE]) }
        counts[ClusterKind.HEADER] == 1
        counts[ClusterKind.L1_TABLE] == 2           // active + snapshot 'base'
        counts[ClusterKind.L2_TABLE] == 2           // the active one was copied on write after the snapshot
        counts[ClusterKind.COMPRESSED] == 1         // two compressed guest clusters packed into one host cluster
        counts[ClusterKind.DATA] == 8               // guest 0-5 and 12, plus the snapshot's old copy of guest 1
        counts[ClusterKind.PAST_EOF] == 0
        counts.values().sum() == h.size()
    }

    def "a map of thousands of clusters is aggregated to at most 64 rows, and a single leak stays visible"() {
        given: '512-byte clusters, 2 MiB written: over 4096 host clusters'
        Path big = dir.resolve('big.qcow2')
        ImageCreator.create(big, CreateOptions.parse('size=2M,cluster_size=512'))
        Qcow2Writer.open(big, WriteOptions.defaults()).withCloseable { it.write(0, DemoImages.fill(0x5a, 2 << 20)) }
        long leaked = DemoImages.leakOneCluster(big)

        when:
        HostClusters h = Charts.hostClusters(big)
        BufferedImage map = Charts.hostMap(big)

        then:
        h.size() > 4096
        h.counts()[ClusterKind.LEAKED] == 1 && h.kind(leaked) == ClusterKind.LEAKED
        map.height < 44 + 64 * 12 + 200
        pixels(map).contains(ClusterKind.LEAKED.color().RGB)
    }

    def "a healthy small map shows no leaked color"() {
        expect:
        !pixels(Charts.hostMap(timeline)).contains(ClusterKind.LEAKED.color().RGB)
    }

    static Set<Integer> pixels(BufferedImage img) {
        Set<Integer> out = []
        for (int y = 44; y < img.height - 80; y++) for (int x = 96; x < img.width - 16; x++) out << img.getRGB(x, y)
        out
    }

    def "guest map: this layer's data, compressed and zero clusters, and what an overlay reads from its backing file"() {
        given:
        Path overlay = dir.resolve('overlay.qcow2')
        ImageCreator.create(overlay, CreateOptions.parse("size=4M,backing_file=${timeline},backing_fmt=qcow2"))
        Qcow2Writer.open(overlay, WriteOptions.defaults()).withCloseable { it.write(40L * CLUSTER, DemoImages.fill(1, 10)) }

        when:
        def base = Qcow2Image.open(timeline, OpenOptions.permissive()).withCloseable { dev.qcow2.notebook.charts.GuestClusters.of(it) }
        def top = Qcow2Image.open(overlay, OpenOptions.permissive()).withCloseable { dev.qcow2.notebook.charts.GuestClusters.of(it) }

        then:
        base.size() == 64
        base.counts()[GuestKind.DATA] == 18          // 1-3, 6-7, 10-12, 20-29
        base.counts()[GuestKind.COMPRESSED] == 1     // 4
        base.kind(0) == GuestKind.ZERO
        base.kind(5) in [GuestKind.ZERO, GuestKind.UNALLOCATED]
        top.counts()[GuestKind.DATA] == 1 && top.kind(40) == GuestKind.DATA
        top.counts()[GuestKind.BACKING] == base.counts()[GuestKind.DATA] + base.counts()[GuestKind.COMPRESSED] + base.counts()[GuestKind.ZERO]
        Charts.guestMap(overlay).width > 0
    }

    def "snapshot divergence counts the clusters that differ at each step of the timeline"() {
        when:
        def chart = Charts.snapshotDivergence(timeline)
        def perStep = chart.seriesMap.values()*.YData.transpose().collect { it*.longValue().sum() }

        then:
        chart.seriesMap.values().first().XData == ['install → configure', 'configure → update', 'update → active']
        perStep == [5L, 3L, 11L]   // 2 changed + 3 added; 0 zeroed, 5 discarded, 4 recompressed; 20-29 added + 2 changed
    }

    def "every chart renders as a PNG: #chart"() {
        expect:
        def bytes = Png.of(Charts."$chart"(image == 'timeline' ? timeline : damaged))
        bytes[0..3] == [0x89, 0x50, 0x4e, 0x47] as byte[]
        ImageIO.read(new ByteArrayInputStream(bytes)).width >= 700

        where:
        chart                | image
        'hostMap'            | 'damaged'
        'guestMap'           | 'timeline'
        'refcountHistogram'  | 'damaged'
        'leaks'              | 'damaged'
        'snapshotDivergence' | 'timeline'
        'fragmentation'      | 'damaged'
    }

    def "bitmapMap paints a square per granule, red exactly where qemu-io's writes set the bitmap's bits"() {
        given:
        Path img = dev.qcow2.testing.Qemu.create(dir.resolve('bitmap.qcow2'), '8M', 'cluster_size=65536')
        dev.qcow2.testing.Qemu.img('bitmap', '--add', '-g', '64k', img.toString(), 'b0')
        dev.qcow2.testing.Qemu.io(img, 'write 100 10', 'write 1M 65537', 'discard 7M 64k')
        def dirty = [0, 16, 17, 112] as Set

        when:
        BufferedImage map = Charts.bitmapMap(img, 'b0')
        def red = (0..<128).findAll { int i -> (map.getRGB(96 + (i % 64) * 12 + 5, 44 + i.intdiv(64) * 12 + 5) & 0xffffff) == 0xdc2626 }

        then:
        red as Set == dirty
        map.getProperty(Charts.TITLE) == "bitmap 'b0' of bitmap.qcow2"

        when:
        Charts.bitmapMap(img, 'nope')

        then:
        def e = thrown(IllegalArgumentException)
        e.message == "no bitmap 'nope' in bitmap.qcow2"
    }

    def "charts of a missing file fail with one line naming it"() {
        when:
        Charts.hostMap(dir.resolve('absent.qcow2').toString())

        then:
        def e = thrown(UncheckedIOException)
        e.message.contains('absent.qcow2') && !e.message.contains('\n')
    }

    def "without a path, #chart shows the image open in the notebook's %%dsl session, the same as with its path"() {
        given:
        def kernel = new Qcow2Kernel()
        Path image = name == 'timeline' ? timeline : damaged
        kernel.evaluate("%%dsl\nopen '$image'")

        expect: 'from a Java cell (Charts.x()) and from a %%dsl cell (charts.x())'
        Png.of(Charts."$chart"()) == Png.of(Charts."$chart"(image))
        Png.of(kernel.evaluate("%%dsl\ncharts.${chart}()")) == Png.of(Charts."$chart"(image))

        cleanup:
        kernel?.onShutdown(false)

        where:
        chart                | name
        'hostMap'            | 'damaged'
        'guestMap'           | 'timeline'
        'refcountHistogram'  | 'damaged'
        'leaks'              | 'damaged'
        'snapshotDivergence' | 'timeline'
        'fragmentation'      | 'damaged'
    }

    def "a DSL session can be passed instead of a path"() {
        given:
        def shell = new dev.qcow2.dsl.DslShell()
        shell.evaluate("open '$damaged'")

        expect:
        Charts.hostClusters(shell).counts() == Charts.hostClusters(damaged).counts()
        Charts.hostClusters(shell.session).counts() == Charts.hostClusters(damaged).counts()

        cleanup:
        shell?.close()
    }

    def "without a path and with no image open, a chart says to open one (one line)"() {
        given:
        def kernel = new Qcow2Kernel()

        when:
        Charts.hostMap()

        then:
        def e = thrown(dev.qcow2.dsl.DslException)
        e.message == "no image open — use open 'file.qcow2'"

        cleanup:
        kernel?.onShutdown(false)
    }
}
