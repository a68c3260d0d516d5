package dev.qcow2.repl

import dev.qcow2.testing.Sha256

import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/** `qcow2 jshell FILE`: jshell with the toolkit's class path, its packages imported and FILE open as `image`; driven by piped input. */
class JShellSpec extends Specification {
    @TempDir Path dir

    def "the startup snippet imports the packages and opens the image; the core API answers"() {
        given:
        Path demo = DemoImage.create(dir)
        String sha = Sha256.of(demo)
        Path startup = dir.resolve('startup.jsh')
        Files.writeString(startup, JShellLauncher.startup(demo.toString()))

        when:
        def p = new ProcessBuilder(JShellLauncher.command(startup) + ['--feedback', 'concise']).redirectErrorStream(true).start()
        p.outputStream.withWriter('UTF-8') {
            it << 'System.out.println("size=" + image.size() + " snapshots=" + image.snapshots().size() + " backing=" + image.backingLink().get().name());\n'
            it << 'System.out.println("cluster=" + new ClusterGeometry(16, 4, false).clusterSize());\n'
            it << 'System.out.println("disk=" + (image.storage().allocatedBytes() > 0));\n'   // fstat through java.lang.foreign
            it << 'System.out.println("dsl=" + dsl("info.snapshots") + " " + dsl("x = [1, 2]; x.size()"));\n'   // the DSL engine, FILE open
            it << 'image.close();\n/exit\n'
        }
        boolean done = p.waitFor(60, TimeUnit.SECONDS)
        String out = p.inputStream.text

        then:
        done && p.exitValue() == 0
        out.contains("size=${DemoImage.SIZE} snapshots=2 backing=base.qcow2")
        out.contains('cluster=65536')
        out.contains('disk=true')
        out.contains('dsl=2 2')
        !out.contains('Exception')
        !out.contains('WARNING')       // native access is enabled for jshell's VMs
        Sha256.of(demo) == sha
    }

    def "the snippet without FILE only imports and defines dsl(...)"() {
        expect:
        JShellLauncher.startup(null).readLines().init().every { it ==~ /import [a-z0-9.]+\.\*;/ }
        JShellLauncher.startup(null).readLines().last().startsWith('Object dsl(String code)')
        JShellLauncher.startup('/x/it"s.qcow2').contains('Qcow2Image.open(Path.of("/x/it\\"s.qcow2"), OpenOptions.permissive())')
    }
}
