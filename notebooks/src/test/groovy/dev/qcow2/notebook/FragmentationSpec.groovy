package dev.qcow2.notebook

import dev.qcow2.testing.Sha256

import dev.qcow2.notebook.charts.Charts
import dev.qcow2.notebook.charts.Fragmentation
import groovy.json.JsonSlurper
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/** The fragmentation figure against qemu-img check (counts and "% fragmented"), the runs, and the chart. */
class FragmentationSpec extends Specification {
    @Shared @TempDir Path dir

    /** Exit status and standard output of {@code cmd} (qemu-img check writes its findings to stderr). */
    static Map run(List<String> cmd) {
        def p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start()
        String out = p.inputStream.text
        [exit: p.waitFor(), out: out]
    }

    static Path qemuImage(Path dir, String name, String options, List<String> io) {
        Path img = dir.resolve(name)
        def created = new ProcessBuilder(['qemu-img', 'create', '-q', '-f', 'qcow2', '-o', options, img.toString(), '8M'])
                .redirectErrorStream(true).start()
        assert created.waitFor() == 0: created.inputStream.text
        if (io) {
            def r = run(['qemu-io'] + io.collectMany { ['-c', it] } + [img.toString()])
            assert r.exit == 0 && !r.out.contains('failed'): "qemu-io ${io} on $img: ${r.out}"
        }
        img
    }

    /** Every file this spec images: made by qemu-io (in the order that scatters them) or by our writer. */
    Path image(String kind) {
        switch (kind) {
            case 'sequential': return qemuImage(dir, 'seq.qcow2', 'cluster_size=64k', ['write -P 1 0 1M'])
            case 'scattered': return qemuImage(dir, 'scat.qcow2', 'cluster_size=64k',
                    [5, 1, 3, 0, 2, 4].collect { "write -P $it ${it * 65536} 64k".toString() })
            case 'compressed and preallocated zero': return qemuImage(dir, 'cz.qcow2', 'cluster_size=64k',
                    ['write -P 2 0 256k', 'write -c -P 3 1M 64k', 'write -c -P 4 2M 64k', 'write -P 5 512k 64k', 'write -z 64k 64k'])
            case 'several L2 tables': return qemuImage(dir, 'l2s.qcow2', 'cluster_size=4k',
                    ['write -P 1 1984k 128k', 'write -P 2 0 64k', 'write -P 3 4M 64k', 'write -P 4 2044k 8k'])
            case 'extended L2': return qemuImage(dir, 'ext.qcow2', 'cluster_size=64k,extended_l2=on',
                    ['write -P 1 128k 64k', 'write -P 2 0 4k', 'write -P 3 64k 64k'])
            case 'damaged (our writer)': return DemoImages.damaged(dir.resolve('damaged.qcow2'))
            case 'timeline (our writer)': return DemoImages.timeline(dir.resolve('timeline.qcow2'))
        }
        throw new IllegalArgumentException(kind)
    }

    def "our figure is qemu-img check's for #kind"() {
        given:
        Path img = image(kind)
        def sha = Sha256.of(img)

        when:
        Fragmentation f = Charts.fragmentationOf(img)
        def json = new JsonSlurper().parseText(run(['qemu-img', 'check', '--output=json', img.toString()]).out)
        def human = run(['qemu-img', 'check', img.toString()]).out =~ /([\d.]+)% fragmented/

        then:
        json.'allocated-clusters' > 0
        f.allocated() == json.'allocated-clusters'
        f.fragmented() == (json.'fragmented-clusters' ?: 0)     // qemu-img leaves out zero counters
        f.compressed() == (json.'compressed-clusters' ?: 0)
        human.find()
        String.format('%.2f', f.percent()) == human.group(1)
        Sha256.of(img) == sha

        where:
        kind << ['sequential', 'scattered', 'compressed and preallocated zero', 'several L2 tables', 'extended L2',
                 'damaged (our writer)', 'timeline (our writer)']
    }

    def "runs: one for data written in order, one per cluster for data written out of order"() {
        expect:
        Charts.fragmentationOf(image('sequential')).runs() == [16L]
        Charts.fragmentationOf(image('scattered')).runs() == [1L] * 6
        Charts.fragmentationOf(image('scattered')).fragmented() == 5
    }

    def "the chart counts every allocated cluster once, by run length, and names the percentage"() {
        given:
        Path img = image('compressed and preallocated zero')
        Fragmentation f = Charts.fragmentationOf(img)

        when:
        def chart = Charts.fragmentation(img)
        def series = chart.seriesMap.values().first()

        then:
        series.YData*.longValue().sum() == f.allocated()
        series.XData.last() == 'compressed'
        series.XData.first() == '1'
        chart.title.contains(String.format('%.2f%% fragmented', f.percent()))
        f.clustersByRunLength().keySet().every { it ==~ /\d+(-\d+)?/ }
    }
}
